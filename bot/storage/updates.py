"""Which Telegram updates were already taken, shared by every webhook instance through the database.

Claims are group-committed: the claims that arrive while one INSERT is running go together in the next,
so under load a claim costs a fraction of a transaction instead of one each (it was about as costly as
answering the question), and when idle a claim is one short transaction as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete

from bot.storage.database import Database, dialect_insert
from bot.storage.models import ProcessedUpdate, utc_now

# Telegram gives up redelivering an update after 24 hours; keep ids a little longer than that.
KEEP_FOR = timedelta(hours=48)
MAX_BATCH = 500



class SqlProcessedUpdates:
    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = database.engine
        self._clock = clock
        # One statement, compiled once, run with many rows; RETURNING names the rows this call inserted.
        self._claim = (dialect_insert(database.dialect)(ProcessedUpdate)
                       .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
                       .returning(ProcessedUpdate.update_id))
        self._waiting: dict[int, list[asyncio.Future[bool]]] = {}
        self._writer: asyncio.Task[None] | None = None

    async def claim(self, update_id: int) -> bool:
        """True for the first caller with this update id (in any process on this database), False after.

        INSERT ... ON CONFLICT DO NOTHING RETURNING: the primary key decides, with no read-then-write race.
        A database error reaches every caller of the batch (their retries claim again).
        """
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(update_id, []).append(waiter)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="claim-updates")
        return await waiter

    async def _write(self) -> None:
        while self._waiting:
            batch: dict[int, list[asyncio.Future[bool]]] = {}
            for update_id in list(self._waiting)[:MAX_BATCH]:
                batch[update_id] = self._waiting.pop(update_id)
            try:
                taken = await self._insert(list(batch))
            except Exception as exc:
                for waiters in batch.values():
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                continue
            for update_id, waiters in batch.items():
                first = update_id in taken
                for number, waiter in enumerate(waiters):
                    if not waiter.done():
                        waiter.set_result(first and number == 0)

    async def _insert(self, update_ids: list[int]) -> set[int]:
        now = self._clock()
        async with self._engine.begin() as connection:
            result = await connection.execute(self._claim, [{"update_id": i, "processed_at": now} for i in update_ids])
            return {row[0] for row in result}

    async def prune(self, keep: timedelta = KEEP_FOR) -> int:
        """Forget ids older than `keep`; returns how many."""
        cutoff = self._clock() - keep
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
            return int(result.rowcount)

