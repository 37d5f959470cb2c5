"""`lcbot broadcast` as staff run it: a real process against the stand-in in a process of its own (30/s)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections import Counter
from pathlib import Path

from bot.core.broadcast import CONCURRENCY
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from tests.broadcast.seeding import seed
from tests.broadcast.standin import RemoteStandIn, remote_stand_in
from tests.fakes.telegram_api import FakeTelegramApi

LCBOT = Path(sys.executable).parent / "lcbot"
ISSUE_FILE = """\
id: 2025-04
default: en
text:
  en: |
    <b>GNLC news, April 2025</b>
    The call for the Learning City Award is open: <a href="https://www.uil.unesco.org/en/learning-cities">details</a>.
  fr: |
    <b>Actualités du GNLC, avril 2025</b>
    L'appel pour le Prix de la ville apprenante est ouvert : <a href="https://www.uil.unesco.org/en/learning-cities">détails</a>.
"""


def environment(database_url: str, api: RemoteStandIn | None = None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LCBOT_DATABASE_URL": database_url}
    if api is not None:
        env |= {"TELEGRAM_BOT_TOKEN": api.token, "LCBOT_TELEGRAM_API_URL": api.base_url}
    return env


async def lcbot(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(str(LCBOT), *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def subscribers(database_url: str, count: int) -> list[int]:
    await upgrade(database_url)
    ids = [20_000 + i for i in range(count)]
    await seed(database_url, [(i, "fr" if i % 3 == 0 else "de", "active") for i in ids])
    await seed(database_url, [(29_999, "en", "unsubscribed")])
    return ids


async def test_a_run_killed_mid_way_then_rerun_serves_everyone_exactly_once_but_the_uncertain(
        database_url: str, tmp_path: Path) -> None:
    ids = await subscribers(database_url, 45)
    issue = tmp_path / "issue.yaml"
    issue.write_text(ISSUE_FILE, encoding="utf-8")
    async with remote_stand_in(rate_limit=30, delay=0.1) as api:
        env = environment(database_url, api)
        first = await asyncio.create_subprocess_exec(str(LCBOT), "broadcast", str(issue), env=env,
                                                     stdout=asyncio.subprocess.DEVNULL,
                                                     stderr=asyncio.subprocess.DEVNULL)
        await api.wait(15)
        first.kill()  # SIGKILL: no clean-up of any kind
        await first.wait()
        await asyncio.sleep(0.3)  # the stand-in answers what was in flight, to nobody
        before = await api.delivered()
        assert 15 <= sum(before.values()) < len(ids)

        code, out, err = await lcbot(env, "broadcast", str(issue))

        async with Database(database_url) as database:
            uncertain = await SqlBroadcasts(database).uncertain("2025-04")
        after = await api.delivered()
        assert 0 < len(uncertain) <= CONCURRENCY, out + err  # the messages in flight at the kill, no more
        assert {i: after[i] for i in ids if i not in uncertain} == {i: 1 for i in ids if i not in uncertain}
        assert all(after[i] == before[i] <= 1 for i in uncertain)  # in flight: arrived or not, never resent
        assert f"uncertain {len(uncertain)}" in out and str(uncertain[0]) in out and "--resend-uncertain" in out
        assert code == 1  # something for staff to decide

        code, out, _ = await lcbot(env, "broadcast", str(issue), "--resend-uncertain")
        final = await api.delivered()
        assert code == 0 and f"sent {len(uncertain)}," in out
        assert final == after + Counter(uncertain)  # staff asked: sent once more, to them only


async def test_a_dry_run_shows_who_gets_which_text_and_load_only_stores_it_and_neither_sends(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'lcbot.db'}"  # the queries behind it run on both in test_broadcast
    await subscribers(database_url, 9)
    issue = tmp_path / "issue.yaml"
    issue.write_text(ISSUE_FILE, encoding="utf-8")
    async with FakeTelegramApi() as api, Database(database_url) as database:
        env = environment(database_url) | {"TELEGRAM_BOT_TOKEN": api.token, "LCBOT_TELEGRAM_API_URL": api.base_url}
        store = SqlBroadcasts(database)

        code, out, _ = await lcbot(env, "broadcast", str(issue), "--dry-run")

        assert code == 0
        assert "Would send to 9 active subscriber(s)" in out
        assert "de: 6 (no de text: gets en, the default)" in out and "fr: 3" in out
        assert "Dry run: nothing was sent." in out
        assert await store.issues() == []  # nothing stored either

        code, out, _ = await lcbot(env, "broadcast", str(issue), "--load-only")

        assert code == 0 and "/broadcast 2025-04" in out
        assert [(s.id, s.status, dict(s.counts)) for s in await store.issues()] == [("2025-04", "loaded", {})]
        assert api.calls_to("sendMessage") == []


async def test_a_file_with_errors_is_refused_with_its_file_and_lines(tmp_path: Path) -> None:
    issue = tmp_path / "issue.yaml"
    issue.write_text("id: 2025-04\ndefault: it\ntext:\n  en: <b>News\n  xx: Hello\n", encoding="utf-8")

    code, _, err = await lcbot(environment(f"sqlite:///{tmp_path / 'lcbot.db'}"), "broadcast", str(issue))

    assert code == 1
    assert f"{issue}:2: error: the default language 'it' has no text" in err
    assert f"{issue}:4: error: text in 'en': HTML: <b> is never closed" in err
    assert re.search(rf"{re.escape(str(issue))}:5: error: text in 'xx': unknown language 'xx'; the FAQ has: en, ", err)
    assert "nothing was sent" in err
