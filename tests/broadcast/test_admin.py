"""`/broadcast` in Telegram: admins start a loaded issue in the background; the bot keeps answering everyone."""

from __future__ import annotations

import asyncio
import time

from bot.core.broadcast import utc_now
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import Database
from tests.broadcast.conftest import ISSUE, delivered
from tests.broadcast.seeding import seed
from tests.telegram.conftest import running_bot

ADMIN = 7001
USER = 7002
QUESTION = "What is a learning city?"
SUBSCRIBERS = range(40_001, 40_061)


async def load_issue(database_url: str) -> None:
    await seed(database_url, [(i, "fr" if i % 2 else "en", "active") for i in SUBSCRIBERS])
    async with Database(database_url) as database:
        await SqlBroadcasts(database).save_issue(ISSUE, utc_now())


async def test_the_bot_keeps_answering_within_a_second_while_an_admin_broadcast_runs(database_url: str) -> None:
    async with running_bot(database_url, admin_ids=frozenset({ADMIN}), faq_watch_seconds=0) as bot:
        bot.api.set_rate_limit(30)
        await load_issue(database_url)

        started = await bot.say(f"/broadcast {ISSUE.id}", user_id=ADMIN)

        assert "Sending issue 2025-04 in the background" in started[0]["text"]
        latencies = []
        while sum(delivered(bot.api)[i] for i in SUBSCRIBERS) < len(SUBSCRIBERS) - 5:
            begin = time.perf_counter()
            reply = await bot.say(QUESTION, user_id=USER)
            latencies.append(time.perf_counter() - begin)
            assert "learning city" in reply[0]["text"].lower()
            await asyncio.sleep(0.2)  # a person typing: well under the per-user flood limit
        summary = (await bot.api.wait_for_messages(ADMIN, 2, timeout=20))[-1]["text"]

    print(summary, latencies)
    assert f"Issue {ISSUE.id}: sent {len(SUBSCRIBERS)}, blocked 0, failed 0, uncertain 0" in summary
    assert {i: delivered(bot.api)[i] for i in SUBSCRIBERS} == dict.fromkeys(SUBSCRIBERS, 1)
    assert len(latencies) >= 5 and max(latencies) < 1.0, latencies
    assert not [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == USER and not c.ok]


async def test_only_admins_can_list_and_start_broadcasts(database_url: str) -> None:
    async with running_bot(database_url, admin_ids=frozenset({ADMIN}), faq_watch_seconds=0) as bot:
        await load_issue(database_url)

        refused = await bot.say(f"/broadcast {ISSUE.id}", user_id=USER)
        listed = await bot.say("/broadcast", user_id=ADMIN)
        unknown = await bot.say("/broadcast 1999-01", user_id=ADMIN)
        await asyncio.sleep(0.3)

    assert "/help" in refused[0]["text"] and "Sending" not in refused[0]["text"]
    assert "2025-04: loaded; not started" in listed[0]["text"]
    assert "No issue 1999-01 is loaded" in unknown[0]["text"]
    assert not any(delivered(bot.api)[i] for i in SUBSCRIBERS)
