"""Which Telegram updates were already taken, shared by every webhook instance through the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult

from bot.storage.database import Database
from bot.storage.models import ProcessedUpdate, utc_now

# Telegram gives up redelivering an update after 24 hours; keep ids a little longer than that.
KEEP_FOR = timedelta(hours=48)

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class SqlProcessedUpdates:
    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions = database.sessions
        self._insert = _INSERTS[database.dialect]
        self._clock = clock

    async def claim(self, update_id: int) -> bool:
        """True for the first caller with this update id (in any process on this database), False after.

        One INSERT ... ON CONFLICT DO NOTHING: the unique key decides, with no read-then-write race.
        """
        statement = self._insert(ProcessedUpdate).values(update_id=update_id, processed_at=self._clock())
        statement = statement.on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
        async with self._sessions() as session:
            result = cast(CursorResult[Any], await session.execute(statement))
            await session.commit()
            return result.rowcount == 1

    async def prune(self, keep: timedelta = KEEP_FOR) -> int:
        """Forget ids older than `keep`; returns how many."""
        cutoff = self._clock() - keep
        async with self._sessions() as session:
            result = cast(CursorResult[Any], await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff)))
            await session.commit()
            return result.rowcount
