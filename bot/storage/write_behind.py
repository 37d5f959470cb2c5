"""Writes no reply waits for, batched: the question log of answered questions and users' "last seen".

Every message used to cost two synchronous transactions; batched, a burst of messages costs one
transaction per ~200 ms. A crash loses at most that much of the anonymous log and of "last seen" times,
never a subscription or a choice the user made (those are written at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.ports import LoggedQuestion
from bot.storage.models import Question, User

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def new_question_id() -> int:
    """A question's id, made here rather than by the database: random, positive, within 63 bits."""
    return secrets.randbits(62) + 1


class WriteBehind:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], upsert: Callable[[type[Any]], Any],
                 clock: Clock, *, interval: float = 0.2, max_pending: int = 10_000) -> None:
        self._sessions = sessions
        self._upsert = upsert
        self._clock = clock
        self._interval = interval
        self._max_pending = max_pending
        self._questions: list[dict[str, Any]] = []
        self._seen: dict[int, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def question(self, question: LoggedQuestion) -> int:
        """Queue the question for the next batch; returns the id it will have."""
        question_id = new_question_id()
        if len(self._questions) < self._max_pending:
            self._questions.append({
                "id": question_id, "text": question.text, "lang": question.lang, "outcome": str(question.outcome),
                "topic_id": question.topic_id, "score": question.score, "asked_at": self._clock(),
                "chosen_topic": None, "rejected": False,
            })
        self._wake()
        return question_id

    async def amend(self, question_id: int, **values: object) -> bool:
        """Change a question still waiting for its batch; False when it is not waiting (written already,
        or never queued), so the caller updates the stored row. Waits for a batch being written."""
        async with self._lock:
            for row in self._questions:
                if row["id"] == question_id:
                    row.update(values)
                    return True
            return False

    def seen(self, telegram_id: int, telegram_language: str | None) -> None:
        now = self._clock()
        earlier = self._seen.get(telegram_id)
        self._seen[telegram_id] = {
            "telegram_id": telegram_id, "first_seen": earlier["first_seen"] if earlier else now, "last_seen": now,
            "telegram_language": telegram_language or (earlier or {}).get("telegram_language"),
        }
        self._wake()

    def discard_user(self, telegram_id: int) -> None:
        """A user who asked to be forgotten must not be written back by a pending "last seen"."""
        self._seen.pop(telegram_id, None)

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            with contextlib.suppress(RuntimeError):  # no running loop: the next flush() writes it
                self._task = asyncio.get_running_loop().create_task(self._flush_soon(), name="write-behind")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._interval)
        try:
            await self.flush()
        except Exception:  # database down: keep the rows (bounded) and try again later
            log.warning("could not write the question log and last-seen times; will retry", exc_info=True)
            await asyncio.sleep(self._interval * 10)
            self._task = None
            if self._questions or self._seen:
                self._wake()

    async def flush(self) -> None:
        async with self._lock:
            questions, self._questions = self._questions, []
            seen, self._seen = self._seen, {}
            if not questions and not seen:
                return
            try:
                async with self._sessions() as session:
                    if seen:
                        statement = self._upsert(User).values(list(seen.values()))
                        statement = statement.on_conflict_do_update(
                            index_elements=[User.telegram_id],
                            set_={"last_seen": statement.excluded.last_seen,
                                  "telegram_language": func.coalesce(statement.excluded.telegram_language,
                                                                     User.telegram_language)},
                        )
                        await session.execute(statement)
                    if questions:
                        await session.execute(insert(Question), questions)
                    await session.commit()
            except Exception:
                self._questions = questions + self._questions
                for telegram_id, row in seen.items():
                    self._seen.setdefault(telegram_id, row)
                raise

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.flush()
        except Exception:
            log.warning("could not write the last questions and last-seen times before stopping", exc_info=True)
