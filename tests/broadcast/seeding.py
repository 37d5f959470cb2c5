"""Subscribers for broadcast tests and the benchmark, written in bulk (hundreds in one transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import insert

from bot.storage.database import Database
from bot.storage.models import Subscriber, User

WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


async def seed(database_url: str, subscribers: Iterable[tuple[int, str, str]]) -> None:
    """(telegram id, language, status) for each subscriber; the database must be migrated."""
    rows = list(subscribers)
    async with Database(database_url) as database, database.sessions() as session:
        await session.execute(insert(User), [{"telegram_id": t, "first_seen": WHEN, "last_seen": WHEN}
                                             for t, _, _ in rows])
        await session.execute(insert(Subscriber), [
            {"telegram_id": t, "language": lang, "status": status, "channel": "telegram", "created_at": WHEN,
             "updated_at": WHEN, "consent_at": WHEN if status == "active" else None, "revision": 0}
            for t, lang, status in rows])
        await session.commit()
