"""Send a newsletter issue to every active subscriber, in their language, under Telegram's limit, never twice.

Free of Telegram and SQL: a `Sender` sends one HTML text to one chat; a `BroadcastStore` keeps one delivery
row per (issue, subscriber). A row is marked `sending` right before its message goes out and `sent` right
after. A row that a crashed run left `sending` may or may not have arrived (Telegram has no idempotency
key): it becomes `uncertain` and is never sent again unless staff ask for it (`resend_uncertain`).

One process at a time runs an issue (a lease in the store, renewed while the run lives), so the run as a
whole stays under the limit; claiming rows one by one with a guarded UPDATE keeps anyone from being served
twice even if two runs overlapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.delivery import (
    BroadcastStore,
    Delivery,
    DeliveryState,
    Sender,
    SenderUnusable,
    SendKind,
    SendResult,
)
from bot.core.issue import Issue
from bot.core.pacing import Pacer

log = logging.getLogger(__name__)

CONCURRENCY = 8  # messages in flight: enough for 30/s at Telegram's usual 100-250 ms per call
MAX_ATTEMPTS = 3  # tries of a message that fails for a passing reason (5xx, connection refused)
RETRY_BACKOFF = (timedelta(seconds=5), timedelta(seconds=30))
LEASE = timedelta(seconds=30)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Summary:
    """What a run did; `uncertain` lists every uncertain subscriber of the issue, from this run or earlier."""

    issue_id: str
    total: int = 0  # deliveries due when the run began
    sent: int = 0
    messages: int = 0  # Telegram messages (a long text counts its parts)
    blocked: int = 0
    failed: int = 0
    became_uncertain: int = 0  # settled as uncertain by this run (a timeout: it may have arrived)
    uncertain: list[int] = field(default_factory=list)
    found_uncertain: int = 0  # left in flight by a run that died, found by this one
    requeued: int = 0  # uncertain ones sent again on request
    already_sent: int = 0  # served by earlier runs
    skipped: int = 0  # no longer subscribed
    left: int = 0  # still pending: the run was stopped
    rate_limited: int = 0  # 429 answers honoured
    seconds: float = 0.0
    busy_with: str | None = None  # another live run holds the issue: this one did nothing
    stopped_because: str | None = None
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.became_uncertain

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def complete(self) -> bool:
        return self.busy_with is None and self.left == 0 and self.stopped_because is None


Progress = Callable[[Summary], None]


class Broadcast:
    """One run of one issue. `run()` returns the summary; `stop()` lets the messages in flight finish."""

    def __init__(self, issue: Issue, store: BroadcastStore, sender: Sender, *, runner: str,
                 pacer: Pacer | None = None, concurrency: int = CONCURRENCY, resend_uncertain: bool = False,
                 holder_gone: Callable[[str], bool] = lambda _holder: False, on_progress: Progress | None = None,
                 clock: Callable[[], datetime] = utc_now, lease: timedelta = LEASE,
                 retry_backoff: tuple[timedelta, ...] = RETRY_BACKOFF) -> None:
        self.issue = issue
        self.store = store
        self.sender = sender
        self.runner = runner
        self.pacer = pacer or Pacer()
        self.concurrency = concurrency
        self.resend_uncertain = resend_uncertain
        self.holder_gone = holder_gone
        self.on_progress = on_progress
        self.clock = clock
        self.lease = lease
        self.retry_backoff = retry_backoff
        self.summary = Summary(issue.id)
        self._parts = {language: issue.parts(language) for language in issue.texts}
        self._stop = asyncio.Event()

    def stop(self, reason: str = "stopped on request") -> None:
        if not self._stop.is_set():
            self.summary.stopped_because = reason
            self._stop.set()

    async def run(self) -> Summary:
        s, store, issue_id = self.summary, self.store, self.issue.id
        started = time.monotonic()
        now = self.clock()
        s.busy_with = await store.acquire(issue_id, self.runner, now, now + self.lease, self.holder_gone)
        if s.busy_with is not None:
            return s
        try:
            prepared = await store.prepare(issue_id, self.runner, now, self.resend_uncertain)
            s.found_uncertain, s.requeued = prepared.found_uncertain, prepared.requeued
            s.skipped = await store.skip_inactive(issue_id, now)
            before = await store.tally(issue_id)
            s.already_sent = before.get(DeliveryState.SENT, 0)
            s.total = before.get(DeliveryState.PENDING, 0)
            self._progress()
            await self._work_all()
            s.skipped += await store.skip_inactive(issue_id, self.clock())
            s.left = (await store.tally(issue_id)).get(DeliveryState.PENDING, 0)
            s.uncertain = await store.uncertain(issue_id)
        finally:
            s.seconds = time.monotonic() - started
            await store.release(issue_id, self.runner, self.clock(), done=s.left == 0 and s.stopped_because is None)
        return s

    async def _work_all(self) -> None:
        keeping = asyncio.create_task(self._keep_lease(), name=f"lease-{self.issue.id}")
        try:
            async with asyncio.TaskGroup() as group:
                for number in range(self.concurrency):
                    group.create_task(self._work(), name=f"broadcast-{self.issue.id}-{number}")
        except BaseExceptionGroup as failures:  # a storage failure that outlasted its retries, say
            raise failures.exceptions[0] from None
        finally:
            keeping.cancel()

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                kept = await self.store.renew(self.issue.id, self.runner, self.clock() + self.lease)
            except Exception:
                log.warning("could not renew the lease of issue %s; trying again", self.issue.id, exc_info=True)
                continue
            if not kept:
                self.stop("another process took the issue over (this run had stalled)")
                return

    async def _work(self) -> None:
        while not self._stop.is_set():
            await self.pacer.wait()
            if self._stop.is_set():
                return
            delivery = await self.store.claim(self.issue.id, self.runner, self.clock())
            if delivery is not None:
                await self._deliver(delivery)
                continue
            due = await self.store.next_due(self.issue.id)
            if due is None:
                return
            wait = min(max((due - self.clock()).total_seconds(), 0.05), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    async def _deliver(self, delivery: Delivery) -> None:
        s, store, runner = self.summary, self.store, self.runner
        parts = self._parts[self.issue.text_language(delivery.language)]
        index = delivery.parts_sent
        while index < len(parts):
            if index > delivery.parts_sent:
                await self.pacer.wait()
            await self.pacer.send_slot()
            try:
                result = await self.sender.send(delivery.telegram_id, parts[index])
            except SenderUnusable as exc:
                await store.retry_later(delivery.id, runner, self.clock(), parts_sent=index, retry_at=None,
                                        error=str(exc), count_attempt=False)
                self.stop(str(exc))
                return
            except Exception as exc:  # unforeseen: whether the message went out is unknown
                log.exception("sending issue %s to %s failed unexpectedly", self.issue.id, delivery.telegram_id)
                result = SendResult.uncertain(f"{type(exc).__name__}: {exc}")
            now = self.clock()
            if result.kind is SendKind.SENT:
                index += 1
                s.messages += 1
                if index < len(parts):
                    await store.part_sent(delivery.id, runner, index, result.message_id, now)
                    continue
                await store.finish(delivery.id, runner, DeliveryState.SENT, now, parts_sent=index,
                                   message_id=result.message_id)
                s.sent += 1
            elif result.kind is SendKind.RETRY_AFTER:
                s.rate_limited += 1
                self.pacer.pause(result.retry_after)
                await store.retry_later(delivery.id, runner, now, parts_sent=index, retry_at=None, error=None,
                                        count_attempt=False)
                return
            elif result.kind is SendKind.BLOCKED:
                await store.finish(delivery.id, runner, DeliveryState.BLOCKED, now, parts_sent=index,
                                   error=result.error)
                s.blocked += 1
            elif result.kind is SendKind.FAILED and result.retryable and delivery.attempts < MAX_ATTEMPTS:
                backoff = self.retry_backoff[min(delivery.attempts, len(self.retry_backoff)) - 1]
                await store.retry_later(delivery.id, runner, now, parts_sent=index, retry_at=now + backoff,
                                        error=result.error, count_attempt=True)
                return
            else:
                state = DeliveryState.FAILED if result.kind is SendKind.FAILED else DeliveryState.UNCERTAIN
                await store.finish(delivery.id, runner, state, now, parts_sent=index, error=result.error)
                s.errors[result.error or state.value] += 1
                if state is DeliveryState.FAILED:
                    s.failed += 1
                else:
                    s.became_uncertain += 1
            self._progress()
            return

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.summary)
