"""Replay of 121 real-world Update payloads: each is ignored or answered, none crashes, the bot keeps serving."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.bootstrap import build_services
from bot.config import Settings
from bot.telegram.application import build_application
from tests.fakes.telegram_api import FakeTelegramApi
from tests.telegram.conftest import RunningBot

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "telegram-updates.jsonl"


def corpus() -> list[dict[str, Any]]:
    if not CORPUS.is_file():
        pytest.skip(f"the shared update corpus is not here: {CORPUS}")
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


async def test_every_parseable_update_is_handled_without_an_error(database_url: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    rows = [row for row in corpus() if row["ptb_parses"]]
    async with FakeTelegramApi() as api:
        settings = Settings(telegram_bot_token=api.token, telegram_api_url=api.base_url, database_url=database_url)
        async with build_services(settings) as services:
            application = build_application(services, updater=False)
            async with application:
                with caplog.at_level(logging.ERROR):
                    for row in rows:
                        await application.process_update(Update.de_json(row["update"], application.bot))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], errors
    assert len(rows) == 99


async def test_updates_the_framework_cannot_parse_do_not_stall_polling(bot: RunningBot,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    rows = corpus()
    broken = [row["update"] for row in rows if not row["ptb_parses"]]
    assert len(broken) == 22
    for update in (row["update"] for row in rows):
        bot.api.push_update(update)
    [reply] = await bot.say("What is a learning city?", user_id=777)
    assert reply["text"]
    assert not bot.task.done()
    # The poller confirms what it received by asking for the next offset: it moved past every broken update.
    highest_broken = max(u["update_id"] for u in broken)
    polls = len(bot.api.calls_to("getUpdates"))
    for _ in range(5):
        offsets = [c.params.get("offset") or 0 for c in await bot.api.wait_for_calls("getUpdates", polls + 1)]
        if max(offsets) > highest_broken:
            break
        polls += 1
    assert max(offsets) > highest_broken
    skipped = [r for r in caplog.records if "cannot parse" in r.getMessage()]
    assert skipped, "no unparseable update reached the bot: the test proves nothing"
