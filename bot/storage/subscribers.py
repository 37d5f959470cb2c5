"""The newsletter's storage ports on SQLAlchemy: subscribers, and a person's data across tables.

Kept apart from repositories.py (which wires them into Store) so each file keeps one job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.ports import (
    Awaiting,
    Channel,
    Role,
    SubscriberFilter,
    SubscriberRecord,
    SubscriberStatus,
)
from bot.storage.database import dialect_insert
from bot.storage.models import BroadcastDelivery, FeedbackVote, Subscriber, User
from bot.storage.write_behind import WriteBehind

# The columns a save writes: everything but the keys and the creation time.
_FIELDS = (
    "status", "language", "channel", "email", "email_confirmed_at", "email_code_hash", "email_code_expires_at",
    "email_code_attempts", "email_code_sends", "email_code_sent_at", "organisation", "role", "source",
    "consent_at", "consent_notice_version", "consent_channel", "consent_language", "awaiting", "updated_at",
    "unsubscribed_at",
)


def _record(row: Subscriber) -> SubscriberRecord:
    return SubscriberRecord(
        telegram_id=row.telegram_id,
        status=SubscriberStatus(row.status),
        language=row.language,
        created_at=row.created_at,
        updated_at=row.updated_at,
        channel=Channel(row.channel),
        source=row.source,
        email=row.email,
        email_confirmed_at=row.email_confirmed_at,
        email_code_hash=row.email_code_hash,
        email_code_expires_at=row.email_code_expires_at,
        email_code_attempts=row.email_code_attempts,
        email_code_sends=row.email_code_sends,
        email_code_sent_at=row.email_code_sent_at,
        organisation=row.organisation,
        role=Role(row.role) if row.role else None,
        consent_at=row.consent_at,
        consent_notice_version=row.consent_notice_version,
        consent_channel=Channel(row.consent_channel) if row.consent_channel else None,
        consent_language=row.consent_language,
        unsubscribed_at=row.unsubscribed_at,
        awaiting=Awaiting(row.awaiting) if row.awaiting else None,
        revision=row.revision,
    )


def _values(record: SubscriberRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _FIELDS}
    for name, value in values.items():
        if isinstance(value, Channel | Role | Awaiting | SubscriberStatus):
            values[name] = value.value
    return values


class SqlSubscribers:
    """Implements bot.core.ports.Subscribers."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._insert = dialect_insert(dialect)
        self._open_steps: set[int] | None = None  # None: not tracked here, ask the database

    async def track_open_steps(self) -> None:
        """Keep in memory who has a sign-up step open, so a message needs no read to know it is a question.

        Only for a process that alone talks with users (polling: Telegram serves getUpdates to a single
        client). Steps are opened only in the conversation, so such a process sees every one opened; a
        step closed elsewhere (staff tools, an unsubscribe link) leaves a stale entry, which costs one read.
        """
        query = select(Subscriber.telegram_id).where(Subscriber.awaiting.is_not(None),
                                                     Subscriber.status == SubscriberStatus.ACTIVE.value)
        async with self._sessions() as session:
            self._open_steps = set((await session.execute(query)).scalars())

    def may_await_step(self, telegram_id: int) -> bool:
        return self._open_steps is None or telegram_id in self._open_steps

    def _note(self, telegram_id: int, record: SubscriberRecord | None) -> None:
        if self._open_steps is None:
            return
        if record is not None and record.awaiting is not None and record.status is SubscriberStatus.ACTIVE:
            self._open_steps.add(telegram_id)
        else:
            self._open_steps.discard(telegram_id)

    async def get(self, telegram_id: int) -> SubscriberRecord | None:
        async with self._sessions() as session:
            row = (await session.execute(select(Subscriber).where(Subscriber.telegram_id == telegram_id))).scalar()
        record = _record(row) if row else None
        self._note(telegram_id, record)
        return record

    async def ensure(self, record: SubscriberRecord) -> SubscriberRecord:
        """INSERT ... ON CONFLICT DO NOTHING for the user and the subscriber, then read what is stored.

        Writes come first in the transaction: SQLite then takes the write lock at once and a concurrent
        caller waits for it (busy timeout) instead of failing to upgrade a read lock.
        """
        now = record.created_at
        user = self._insert(User).values(telegram_id=record.telegram_id, first_seen=now, last_seen=now)
        subscriber = self._insert(Subscriber).values(telegram_id=record.telegram_id, created_at=now, revision=0,
                                                     **_values(record))
        async with self._sessions() as session:
            await session.execute(user.on_conflict_do_nothing(index_elements=[User.telegram_id]))
            await session.execute(subscriber.on_conflict_do_nothing(index_elements=[Subscriber.telegram_id]))
            row = (await session.execute(
                select(Subscriber).where(Subscriber.telegram_id == record.telegram_id))).scalar_one()
            await session.commit()
        stored = _record(row)
        self._note(stored.telegram_id, stored)
        return stored

    async def save(self, record: SubscriberRecord) -> bool:
        statement = (
            update(Subscriber)
            .where(Subscriber.telegram_id == record.telegram_id, Subscriber.revision == record.revision)
            .values(revision=Subscriber.revision + 1, **_values(record))
        )
        async with self._sessions() as session:
            result = cast(CursorResult[Any], await session.execute(statement))
            await session.commit()
        saved = result.rowcount == 1
        if saved:
            self._note(record.telegram_id, record)
        return saved

    async def select(self, which: SubscriberFilter) -> list[SubscriberRecord]:
        query = select(Subscriber).order_by(Subscriber.id)
        if which.status is not None:
            query = query.where(Subscriber.status == which.status.value)
        if which.channel is not None:
            query = query.where(Subscriber.channel == which.channel.value)
        if which.language is not None:
            query = query.where(Subscriber.language == which.language)
        if which.confirmed_email:
            query = query.where(Subscriber.email.is_not(None), Subscriber.email_confirmed_at.is_not(None))
        async with self._sessions() as session:
            return [_record(row) for row in (await session.execute(query)).scalars()]


class SqlPersonalData:
    """Implements bot.core.ports.PersonalData: one person's rows in every table that names them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], write_behind: WriteBehind | None = None,
                 on_erase: Callable[[int], None] | None = None) -> None:
        self._sessions = sessions
        self._write_behind = write_behind
        self._on_erase = on_erase  # told of each erasure (the users' languages kept in memory)

    async def feedback_count(self, telegram_id: int) -> int:
        query = select(func.count(FeedbackVote.id)).where(FeedbackVote.telegram_id == telegram_id)
        async with self._sessions() as session:
            return int((await session.execute(query)).scalar_one())

    async def erase(self, telegram_id: int) -> bool:
        """Explicit deletes, children first, rather than trusting ON DELETE CASCADE alone (SQLite may have
        foreign keys off on a connection not made by lcbot)."""
        removed = 0
        self._discard_pending(telegram_id)
        async with self._sessions() as session:
            for model in (FeedbackVote, BroadcastDelivery, Subscriber, User):
                result = cast(CursorResult[Any], await session.execute(
                    delete(model).where(model.telegram_id == telegram_id)))
                removed += result.rowcount
            await session.commit()
        self._discard_pending(telegram_id)  # noted while the rows were being deleted
        if self._on_erase is not None:
            self._on_erase(telegram_id)
        return removed > 0

    def _discard_pending(self, telegram_id: int) -> None:
        """A batched "last seen" must not write the user back after they were erased."""
        if self._write_behind is not None:
            self._write_behind.discard_user(telegram_id)
