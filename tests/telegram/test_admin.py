"""Staff in Telegram: live FAQ reload, /reload, /stats and /unanswered for LCBOT_ADMIN_IDS only."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import bundled
from tests.telegram.conftest import RunningBot, running_bot

ADMIN = 7001
USER = 7002
QUESTION = "What is a learning city?"
ANSWER_HEADING = "<b>What is a learning city?</b>"  # the first line of that answer in faq/en.yaml
EDITED_HEADING = "<b>Learning cities, edited live</b>"
UNKNOWN_COMMAND_HINT = "/help"  # what anyone gets for a command the bot does not know


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Reloading the FAQ involves no database: those tests run on SQLite only, to stay fast."""
    return f"sqlite+aiosqlite:///{tmp_path / 'lcbot.db'}"


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    """A copy of the project's FAQ that the test may edit while the bot serves it."""
    folder = tmp_path / "faq"
    shutil.copytree(bundled("faq"), folder)
    return folder


@asynccontextmanager
async def staff_bot(database_url: str, faq_dir: Path, **settings: Any) -> AsyncIterator[RunningBot]:
    options: dict[str, Any] = {"faq_dir": faq_dir, "admin_ids": frozenset({ADMIN}), "faq_watch_seconds": 0.2}
    async with running_bot(database_url, **(options | settings)) as bot:
        yield bot


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def answer_to(bot: RunningBot, question: str = QUESTION, user_id: int = USER) -> str:
    [reply] = await bot.say(question, user_id=user_id)
    return reply["text"]


async def test_an_invalid_faq_edit_changes_nothing_users_see_and_the_admins_get_the_error(
        sqlite_url: str, faq_dir: Path) -> None:
    async with staff_bot(sqlite_url, faq_dir) as bot:
        before = await answer_to(bot)
        edit(faq_dir / "en.yaml", ANSWER_HEADING, EDITED_HEADING)
        edit(faq_dir / "en.yaml", "entries:", "entries: [unclosed")  # the same save also breaks the file
        [alert] = await bot.api.wait_for_messages(ADMIN, 1, timeout=10)
        assert "rejected" in alert["text"] and "previous FAQ is still served" in alert["text"]
        assert "en.yaml:" in alert["text"]  # the file and line of the error
        assert await answer_to(bot) == before
        await asyncio.sleep(0.6)  # a few more watch rounds: the same broken file is reported once
        assert len(bot.api.messages_to(ADMIN)) == 1


async def test_a_valid_faq_edit_is_live_within_seconds(sqlite_url: str, faq_dir: Path) -> None:
    async with staff_bot(sqlite_url, faq_dir) as bot:
        assert "edited live" not in await answer_to(bot)
        edit(faq_dir / "en.yaml", ANSWER_HEADING, EDITED_HEADING)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while "edited live" not in (text := await answer_to(bot)):
            assert loop.time() < deadline, f"the edit is not live after 5 s: {text[:60]!r}"
            await asyncio.sleep(0.2)
        assert bot.api.messages_to(ADMIN) == []  # a valid edit is no news for the admins


async def test_reload_by_an_admin_says_why_an_edit_is_rejected_then_loads_the_fixed_faq(
        sqlite_url: str, faq_dir: Path) -> None:
    async with staff_bot(sqlite_url, faq_dir, faq_watch_seconds=0) as bot:
        before = await answer_to(bot)
        edit(faq_dir / "fr.yaml", "entries:", "entries: [unclosed")
        [rejected] = await bot.say("/reload", user_id=ADMIN)
        assert "rejected" in rejected["text"] and "fr.yaml:" in rejected["text"]
        assert await answer_to(bot) == before
        edit(faq_dir / "fr.yaml", "entries: [unclosed", "entries:")
        edit(faq_dir / "en.yaml", ANSWER_HEADING, EDITED_HEADING)
        [reloaded] = await bot.say("/reload", user_id=ADMIN)
        assert reloaded["text"].startswith("FAQ reloaded")
        assert "edited live" in await answer_to(bot)


async def test_reload_by_anyone_else_gets_the_unknown_command_hint_and_reloads_nothing(
        sqlite_url: str, faq_dir: Path) -> None:
    async with staff_bot(sqlite_url, faq_dir, faq_watch_seconds=0) as bot:
        edit(faq_dir / "en.yaml", ANSWER_HEADING, EDITED_HEADING)
        [reply] = await bot.say("/reload", user_id=USER)
        assert UNKNOWN_COMMAND_HINT in reply["text"] and "FAQ" not in reply["text"]
        assert "edited live" not in await answer_to(bot)


async def test_stats_and_unanswered_are_for_admins_only(database_url: str, faq_dir: Path) -> None:
    async with staff_bot(database_url, faq_dir) as bot:
        await answer_to(bot, QUESTION)
        await answer_to(bot, "Can I bring my dog <Rex> & cat to the conference?")
        await answer_to(bot, "can i bring my dog <rex> and cat to the conference??", user_id=USER + 1)
        for command in ("/stats", "/unanswered"):
            [refused] = await bot.say(command, user_id=USER)
            assert UNKNOWN_COMMAND_HINT in refused["text"] and "Questions" not in refused["text"]
            assert "dog" not in refused["text"]
        group = -100700
        bot.api.push_update(bot.api.text_message("/unanswered", user_id=ADMIN, chat_id=group, chat_type="supergroup"))
        assert await bot.quiet(group, 0.5) == []  # never in a group, where everyone would read it
        [unanswered] = await bot.say("/unanswered", user_id=ADMIN)
        # The stand-in parses HTML as Telegram does (and refuses it unescaped): the text is what admins read.
        assert "2×" in unanswered["text"] and "dog <Rex> & cat" in unanswered["text"]
        [stats] = await bot.say("/stats 7", user_id=ADMIN)
        assert "Questions" in stats["text"] and "not understood" in stats["text"]
