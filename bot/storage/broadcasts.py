"""Newsletter broadcasts on SQLAlchemy: issues with their lease, one delivery row per (issue, subscriber).

Implements bot.core.broadcast.BroadcastStore. Every change to a delivery is one short transaction, and
every change to a row a runner holds is guarded by `runner = me AND state = 'sending'`: a run that lost
its lease cannot overwrite what another run decided. A claim is one UPDATE of the next due pending row;
on PostgreSQL the row is picked FOR UPDATE SKIP LOCKED, so concurrent claimers never wait for, nor get,
the same row (SQLite has one writer at a time, and the guarded UPDATE is enough there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.core.broadcast import Delivery, DeliveryState, Prepared
from bot.core.issue import Issue, IssueConflict, IssueStatus
from bot.storage.models import BroadcastDelivery, BroadcastIssue, Subscriber

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
D = BroadcastDelivery
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ERROR = 300
LEFT_IN_FLIGHT = "in flight when the run sending it stopped: it may or may not have arrived"
RECEIVED = (DeliveryState.SENT, DeliveryState.SENDING, DeliveryState.UNCERTAIN)  # someone may have it
SETTLED = (*RECEIVED, DeliveryState.BLOCKED, DeliveryState.FAILED)


def _active(telegram_id: Any) -> Any:
    return exists().where(Subscriber.telegram_id == telegram_id, Subscriber.status == "active")


def _error(text: str | None) -> str | None:
    return text[:MAX_ERROR] if text else text


async def _count(session: AsyncSession, statement: Any) -> int:
    return cast(CursorResult[Any], await session.execute(statement)).rowcount


class SqlBroadcasts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._insert = _INSERTS[dialect]

    # ------------------------------------------------------------------ issues

    async def save_issue(self, issue: Issue, now: datetime) -> str:
        """Store the issue: "created", "unchanged" or "updated" (nobody has any version yet).

        Raises IssueConflict when the texts changed after some subscribers may have received it.
        """
        values = {"default_language": issue.default, "texts": dict(issue.texts), "fingerprint": issue.fingerprint}
        insert = self._insert(BroadcastIssue).values(id=issue.id, status="loaded", created_at=now, **values)
        async with self._sessions() as session:
            created = await _count(session, insert.on_conflict_do_nothing(index_elements=[BroadcastIssue.id]))
            if created:
                await session.commit()
                return "created"
            stored = (await session.execute(select(BroadcastIssue.fingerprint)
                                            .where(BroadcastIssue.id == issue.id))).scalar_one()
            if stored == issue.fingerprint:
                return "unchanged"
            received = (await session.execute(select(func.count(D.id)).where(
                D.issue_id == issue.id, D.state.in_([s.value for s in RECEIVED])))).scalar_one()
            if received:
                raise IssueConflict(f"issue {issue.id} was already sent to {received} subscriber(s) with other "
                                    "texts; give the new version a new id")
            await session.execute(update(BroadcastIssue).where(BroadcastIssue.id == issue.id).values(**values))
            # Failures may have come from the old text: the new one is tried again.
            await session.execute(update(D).where(D.issue_id == issue.id, D.state == DeliveryState.FAILED.value)
                                  .values(state=DeliveryState.PENDING.value, attempts=0, retry_at=None, updated_at=now))
            await session.commit()
            return "updated"

    async def get_issue(self, issue_id: str) -> Issue | None:
        async with self._sessions() as session:
            row = await session.get(BroadcastIssue, issue_id)
        return Issue(row.id, row.default_language, dict(row.texts)) if row else None

    async def issues(self, limit: int = 10) -> list[IssueStatus]:
        """The newest issues first, with their deliveries counted per state."""
        async with self._sessions() as session:
            rows = (await session.execute(select(BroadcastIssue).order_by(BroadcastIssue.created_at.desc(),
                                                                          BroadcastIssue.id).limit(limit))).scalars()
            found = list(rows)
            counts = (await session.execute(select(D.issue_id, D.state, func.count(D.id))
                                            .where(D.issue_id.in_([row.id for row in found]))
                                            .group_by(D.issue_id, D.state))).all()
        per_issue: dict[str, dict[str, int]] = {}
        for issue_id, state, count in counts:
            per_issue.setdefault(issue_id, {})[state] = int(count)
        return [IssueStatus(row.id, row.status, row.created_at, row.started_at, row.finished_at, row.runner,
                            row.lease_until, per_issue.get(row.id, {})) for row in found]

    async def audience(self, issue_id: str) -> tuple[list[tuple[int, str]], int]:
        """(telegram id, language) of the active subscribers a run would serve now, and how many are settled."""
        settled_row = exists().where(D.issue_id == issue_id, D.telegram_id == Subscriber.telegram_id,
                                     D.state.in_([s.value for s in SETTLED]))
        query = (select(Subscriber.telegram_id, Subscriber.language)
                 .where(Subscriber.status == "active", ~settled_row).order_by(Subscriber.id))
        async with self._sessions() as session:
            audience = [(int(t), str(lang)) for t, lang in (await session.execute(query)).all()]
            settled = (await session.execute(select(func.count(D.id)).where(
                D.issue_id == issue_id, D.state.in_([s.value for s in SETTLED])))).scalar_one()
        return audience, int(settled)

    # ------------------------------------------------------------------ the lease

    async def acquire(self, issue_id: str, runner: str, now: datetime, until: datetime,
                      holder_gone: Callable[[str], bool]) -> str | None:
        async with self._sessions() as session:
            row = (await session.execute(select(BroadcastIssue.runner, BroadcastIssue.lease_until)
                                         .where(BroadcastIssue.id == issue_id))).one_or_none()
            if row is None:
                raise KeyError(issue_id)
            holder, lease_until = row
            free = BroadcastIssue.runner.is_(None) | (BroadcastIssue.lease_until < now)
            if holder is not None and holder_gone(holder):
                free = free | (BroadcastIssue.runner == holder)  # a dead process on this host: no need to wait
            taken = await _count(session, update(BroadcastIssue).where(BroadcastIssue.id == issue_id, free).values(
                runner=runner, lease_until=until, status="running",
                started_at=func.coalesce(BroadcastIssue.started_at, now)))
            await session.commit()
        if taken:
            return None
        return holder if holder is not None and (lease_until is None or lease_until >= now) else "another run"

    async def renew(self, issue_id: str, runner: str, until: datetime) -> bool:
        async with self._sessions() as session:
            kept = await _count(session, update(BroadcastIssue).where(
                BroadcastIssue.id == issue_id, BroadcastIssue.runner == runner).values(lease_until=until))
            await session.commit()
        return kept == 1

    async def release(self, issue_id: str, runner: str, now: datetime, done: bool) -> None:
        async with self._sessions() as session:
            await session.execute(update(BroadcastIssue).where(
                BroadcastIssue.id == issue_id, BroadcastIssue.runner == runner).values(
                runner=None, lease_until=None, status="done" if done else "stopped",
                finished_at=now if done else None))
            await session.commit()

    # ------------------------------------------------------------------ deliveries

    async def prepare(self, issue_id: str, runner: str, now: datetime, resend_uncertain: bool) -> Prepared:
        mine = D.issue_id == issue_id
        async with self._sessions() as session:
            found = await _count(session, update(D).where(
                mine, D.state == DeliveryState.SENDING.value, (D.runner != runner) | D.runner.is_(None)).values(
                state=DeliveryState.UNCERTAIN.value, last_error=LEFT_IN_FLIGHT, updated_at=now))
            requeued = 0
            if resend_uncertain:
                requeued = await _count(session, update(D).where(mine, D.state == DeliveryState.UNCERTAIN.value)
                                        .values(state=DeliveryState.PENDING.value, runner=None, retry_at=None,
                                                updated_at=now))
            await session.execute(update(D).where(mine, D.state == DeliveryState.SKIPPED.value, _active(D.telegram_id))
                                  .values(state=DeliveryState.PENDING.value, updated_at=now))
            subscribers = (select(literal(issue_id), Subscriber.telegram_id, Subscriber.language,
                                  literal(DeliveryState.PENDING.value), literal(0), literal(0),
                                  literal(now, D.updated_at.type))
                           .where(Subscriber.status == "active").order_by(Subscriber.id))
            insert = self._insert(D).from_select(
                ["issue_id", "telegram_id", "language", "state", "parts_sent", "attempts", "updated_at"], subscribers)
            planned = await _count(session, insert.on_conflict_do_nothing(index_elements=[D.issue_id, D.telegram_id]))
            await session.commit()
        return Prepared(found, requeued, planned)

    async def claim(self, issue_id: str, runner: str, now: datetime) -> Delivery | None:
        other = aliased(D)  # the subquery reads its own copy of the table, not the row being updated
        candidate = (select(other.id)
                     .where(other.issue_id == issue_id, other.state == DeliveryState.PENDING.value,
                            other.retry_at.is_(None) | (other.retry_at <= now), _active(other.telegram_id))
                     .order_by(other.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
        statement = (update(D).where(D.id == candidate, D.state == DeliveryState.PENDING.value)
                     .values(state=DeliveryState.SENDING.value, runner=runner, attempts=D.attempts + 1, updated_at=now)
                     .returning(D.id, D.telegram_id, D.language, D.parts_sent, D.attempts)
                     .execution_options(synchronize_session=False))
        async with self._sessions() as session:
            row = (await session.execute(statement)).one_or_none()
            await session.commit()
        return Delivery(row.id, row.telegram_id, row.language, row.parts_sent, row.attempts) if row else None

    async def next_due(self, issue_id: str) -> datetime | None:
        query = (select(D.retry_at).where(D.issue_id == issue_id, D.state == DeliveryState.PENDING.value,
                                          _active(D.telegram_id))
                 .order_by(D.retry_at.asc().nulls_first()).limit(1))
        async with self._sessions() as session:
            row = (await session.execute(query)).one_or_none()
        return None if row is None else (row.retry_at or EPOCH)

    def _held(self, delivery_id: int, runner: str) -> Any:
        return update(D).where(D.id == delivery_id, D.runner == runner, D.state == DeliveryState.SENDING.value)

    async def part_sent(self, delivery_id: int, runner: str, parts_sent: int, message_id: int | None,
                        now: datetime) -> None:
        async with self._sessions() as session:
            await session.execute(self._held(delivery_id, runner).values(
                parts_sent=parts_sent, message_id=message_id, updated_at=now))
            await session.commit()

    async def finish(self, delivery_id: int, runner: str, state: DeliveryState, now: datetime, *,
                     parts_sent: int | None = None, message_id: int | None = None, error: str | None = None) -> None:
        values: dict[str, Any] = {"state": state.value, "last_error": _error(error), "retry_at": None,
                                  "updated_at": now}
        if parts_sent is not None:
            values["parts_sent"] = parts_sent
        if message_id is not None:
            values["message_id"] = message_id
        statement = (self._held(delivery_id, runner).values(**values).returning(D.telegram_id)
                     .execution_options(synchronize_session=False))
        async with self._sessions() as session:
            telegram_id = (await session.execute(statement)).scalar_one_or_none()
            if state is DeliveryState.BLOCKED and telegram_id is not None:
                await session.execute(update(Subscriber).where(
                    Subscriber.telegram_id == telegram_id, Subscriber.status == "active").values(
                    status="unreachable", updated_at=now, revision=Subscriber.revision + 1))
            await session.commit()

    async def retry_later(self, delivery_id: int, runner: str, now: datetime, *, parts_sent: int,
                          retry_at: datetime | None, error: str | None, count_attempt: bool) -> None:
        values: dict[str, Any] = {"state": DeliveryState.PENDING.value, "runner": None, "parts_sent": parts_sent,
                                  "retry_at": retry_at, "updated_at": now}
        if error is not None:
            values["last_error"] = _error(error)
        if not count_attempt:  # turned away for flood control or a bad token: not a try of this message
            values["attempts"] = D.attempts - 1
        async with self._sessions() as session:
            await session.execute(self._held(delivery_id, runner).values(**values))
            await session.commit()

    async def skip_inactive(self, issue_id: str, now: datetime) -> int:
        async with self._sessions() as session:
            skipped = await _count(session, update(D).where(
                D.issue_id == issue_id, D.state == DeliveryState.PENDING.value, ~_active(D.telegram_id)).values(
                state=DeliveryState.SKIPPED.value, updated_at=now))
            await session.commit()
        return skipped

    async def tally(self, issue_id: str) -> dict[DeliveryState, int]:
        query = select(D.state, func.count(D.id)).where(D.issue_id == issue_id).group_by(D.state)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {DeliveryState(state): int(count) for state, count in rows}

    async def uncertain(self, issue_id: str) -> list[int]:
        query = select(D.telegram_id).where(D.issue_id == issue_id, D.state == DeliveryState.UNCERTAIN.value)
        async with self._sessions() as session:
            return [int(t) for t in (await session.execute(query.order_by(D.id))).scalars()]
