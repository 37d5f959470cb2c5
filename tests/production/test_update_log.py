"""The processed-update log: the first claim of an update id wins, in one process or several, and old ids go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.updates import SqlProcessedUpdates


async def test_an_update_id_is_claimed_once_even_by_concurrent_callers(database_url: str) -> None:
    await upgrade(database_url)
    async with Database(database_url) as database:
        log = SqlProcessedUpdates(database)

        results = await asyncio.gather(*(log.claim(update_id) for update_id in [1, 2, 1, 3, 2, 1]))

        assert results == [True, True, False, True, False, False]
        assert await log.claim(1) is False and await log.claim(4) is True


async def test_two_processes_on_one_database_share_the_claims(database_url: str) -> None:
    await upgrade(database_url)
    async with Database(database_url) as one, Database(database_url) as other:
        first, second = SqlProcessedUpdates(one), SqlProcessedUpdates(other)

        results = await asyncio.gather(*(log.claim(update_id) for update_id in range(100, 150)
                                         for log in (first, second)))

        assert sum(results) == 50
        assert all(a != b for a, b in zip(results[::2], results[1::2], strict=True))


async def test_ids_older_than_telegrams_redelivery_window_are_pruned(database_url: str) -> None:
    await upgrade(database_url)
    now = datetime(2026, 1, 10, tzinfo=UTC)
    async with Database(database_url) as database:
        old = SqlProcessedUpdates(database, clock=lambda: now - timedelta(hours=49))
        recent = SqlProcessedUpdates(database, clock=lambda: now - timedelta(hours=1))
        await old.claim(1)
        await recent.claim(2)

        assert await SqlProcessedUpdates(database, clock=lambda: now).prune() == 1
        assert await recent.claim(1) is True and await recent.claim(2) is False
