"""Newsletter broadcasts on SQLAlchemy: issues with their lease, one delivery row per (issue, subscriber).

Implements bot.core.delivery.BroadcastStore. Every change to a delivery is one short transaction, and
every change to a row a runner holds is guarded by `runner = me AND state = 'sending'`: a run that lost
its lease cannot overwrite what another run decided. A claim is one UPDATE of the next due pending row;
on PostgreSQL the row is picked FOR UPDATE SKIP LOCKED, so concurrent claimers never wait for, nor get,
the same row (SQLite has one writer at a time, and the guarded UPDATE is enough there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, String, bindparam, exists, func, literal, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.delivery import Delivery, DeliveryState, Prepared
from bot.core.issue import Issue, IssueConflict, IssueStatus
from bot.storage.database import Database, dialect_insert
from bot.storage.models import BroadcastDelivery, BroadcastIssue, Subscriber, UTCDateTime

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


# The statements run for every message, built once: Core on the tables, values bound per call.
_T, _S = BroadcastDelivery.__table__, Subscriber.__table__
_OTHER = _T.alias("other")  # the claim's subquery reads its own copy of the table, not the row updated


def _p(name: str, type_: Any = None) -> Any:
    return bindparam(f"p_{name}", type_=type_)


def _active_core(telegram_id: Any) -> Any:
    return exists().where(_S.c.telegram_id == telegram_id, _S.c.status == "active")


_CLAIM = (
    _T.update()
    .where(_T.c.id == select(_OTHER.c.id)
           .where(_OTHER.c.issue_id == _p("issue"), _OTHER.c.state == DeliveryState.PENDING.value,
                  _OTHER.c.retry_at.is_(None) | (_OTHER.c.retry_at <= _p("now", UTCDateTime())),
                  _active_core(_OTHER.c.telegram_id))
           .order_by(_OTHER.c.id).limit(1).with_for_update(skip_locked=True).scalar_subquery(),
           _T.c.state == DeliveryState.PENDING.value)
    .values(state=DeliveryState.SENDING.value, runner=_p("runner"), attempts=_T.c.attempts + 1,
            updated_at=_p("now", UTCDateTime()))
    .returning(_T.c.id, _T.c.telegram_id, _T.c.language, _T.c.parts_sent, _T.c.attempts)
)
_NEXT_DUE = (select(_T.c.retry_at)
             .where(_T.c.issue_id == _p("issue"), _T.c.state == DeliveryState.PENDING.value,
                    _active_core(_T.c.telegram_id))
             .order_by(_T.c.retry_at.asc().nulls_first()).limit(1))
_HELD = _T.update().where(_T.c.id == _p("id"), _T.c.runner == _p("runner"), _T.c.state == DeliveryState.SENDING.value)
_PART_SENT = _HELD.values(parts_sent=_p("parts"), message_id=_p("message", BigInteger()),
                          updated_at=_p("now", UTCDateTime()))
_FINISH = _HELD.values(
    state=_p("state"), last_error=_p("error"), retry_at=None, updated_at=_p("now", UTCDateTime()),
    parts_sent=func.coalesce(_p("parts", Integer()), _T.c.parts_sent),
    message_id=func.coalesce(_p("message", BigInteger()), _T.c.message_id),
).returning(_T.c.telegram_id)
_UNREACHABLE = (_S.update().where(_S.c.telegram_id == _p("telegram_id"), _S.c.status == "active")
                .values(status="unreachable", updated_at=_p("now", UTCDateTime()),
                        revision=_S.c.revision + 1))
_RETRY_LATER = _HELD.values(
    state=DeliveryState.PENDING.value, runner=None, parts_sent=_p("parts"), updated_at=_p("now", UTCDateTime()),
    retry_at=_p("retry_at", UTCDateTime()), last_error=func.coalesce(_p("error", String()), _T.c.last_error),
    attempts=_T.c.attempts - _p("uncount", Integer()),
)


class SqlBroadcasts:
    def __init__(self, database: Database) -> None:
        self._sessions = database.sessions
        self._engine = database.engine  # the per-message statements run on Core: no ORM work per message
        self._insert = dialect_insert(database.dialect)

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
        row = await self._run(_CLAIM, issue=issue_id, runner=runner, now=now)
        return Delivery(row.id, row.telegram_id, row.language, row.parts_sent, row.attempts) if row else None

    async def next_due(self, issue_id: str) -> datetime | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(_NEXT_DUE, {"p_issue": issue_id})).first()
        return None if row is None else (row.retry_at or EPOCH)

    async def part_sent(self, delivery_id: int, runner: str, parts_sent: int, message_id: int | None,
                        now: datetime) -> None:
        await self._run(_PART_SENT, id=delivery_id, runner=runner, parts=parts_sent, message=message_id, now=now)

    async def finish(self, delivery_id: int, runner: str, state: DeliveryState, now: datetime, *,
                     parts_sent: int | None = None, message_id: int | None = None, error: str | None = None) -> None:
        async with self._engine.begin() as connection:
            row = (await connection.execute(_FINISH, {
                "p_id": delivery_id, "p_runner": runner, "p_state": state.value, "p_parts": parts_sent,
                "p_message": message_id, "p_error": _error(error), "p_now": now})).first()
            if state is DeliveryState.BLOCKED and row is not None:
                await connection.execute(_UNREACHABLE, {"p_telegram_id": row.telegram_id, "p_now": now})

    async def retry_later(self, delivery_id: int, runner: str, now: datetime, *, parts_sent: int,
                          retry_at: datetime | None, error: str | None, count_attempt: bool) -> None:
        # Turned away for flood control or a bad token: not a try of this message (uncount the claim's).
        await self._run(_RETRY_LATER, id=delivery_id, runner=runner, parts=parts_sent, retry_at=retry_at,
                        error=_error(error), uncount=0 if count_attempt else 1, now=now)

    async def _run(self, statement: Any, **values: Any) -> Any:
        """One statement in its own transaction: the first row it returns, if any."""
        async with self._engine.begin() as connection:
            result = await connection.execute(statement, {f"p_{k}": v for k, v in values.items()})
            return result.first() if result.returns_rows else None

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
