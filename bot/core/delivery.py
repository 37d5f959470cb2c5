"""One issue to one subscriber: the delivery's states, what sending can come to, and the broadcast's ports.

`Sender` is the Telegram side, `BroadcastStore` the delivery rows (bot/storage/broadcasts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # the message is (or was, if the run died) on its way
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it (bad request), or it kept failing
    BLOCKED = "blocked"  # 403: the subscriber blocked the bot; now unreachable
    UNCERTAIN = "uncertain"  # may or may not have arrived: staff decide
    SKIPPED = "skipped"  # no longer an active subscriber when their turn came


class SendKind(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"
    RETRY_AFTER = "retry_after"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class SendResult:
    kind: SendKind
    message_id: int | None = None
    retry_after: float = 0.0
    error: str | None = None
    retryable: bool = False  # FAILED only: the message surely did not go out, and may go later

    @classmethod
    def sent(cls, message_id: int | None) -> SendResult:
        return cls(SendKind.SENT, message_id=message_id)

    @classmethod
    def blocked(cls, error: str | None = None) -> SendResult:
        return cls(SendKind.BLOCKED, error=error)

    @classmethod
    def retry(cls, seconds: float) -> SendResult:
        return cls(SendKind.RETRY_AFTER, retry_after=seconds)

    @classmethod
    def failed(cls, error: str, *, retryable: bool = False) -> SendResult:
        return cls(SendKind.FAILED, error=error, retryable=retryable)

    @classmethod
    def uncertain(cls, error: str) -> SendResult:
        return cls(SendKind.UNCERTAIN, error=error)


class Sender(Protocol):
    async def send(self, chat_id: int, html: str) -> SendResult:
        """Send one message; what Telegram answers about this chat is a result, never an exception."""
        ...


class SenderUnusable(Exception):
    """Nothing can be sent at all (Telegram rejects the bot token): the run stops, the message was not sent."""


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    telegram_id: int
    language: str
    parts_sent: int = 0  # of a text sent in several messages
    attempts: int = 1  # this one included


@dataclass(frozen=True, slots=True)
class Prepared:
    found_uncertain: int  # rows a dead run left `sending`, now uncertain
    requeued: int  # uncertain rows queued again on request
    planned: int  # active subscribers given a row now


class BroadcastStore(Protocol):
    async def acquire(self, issue_id: str, runner: str, now: datetime, until: datetime,
                      holder_gone: Callable[[str], bool]) -> str | None:
        """Take the issue's lease: None when taken, else who holds it (a live run)."""
        ...

    async def renew(self, issue_id: str, runner: str, until: datetime) -> bool: ...

    async def release(self, issue_id: str, runner: str, now: datetime, done: bool) -> None: ...

    async def prepare(self, issue_id: str, runner: str, now: datetime, resend_uncertain: bool) -> Prepared:
        """Under the lease: `sending` rows of earlier runs become uncertain (or pending again on request),
        and every active subscriber without a row gets one."""
        ...

    async def claim(self, issue_id: str, runner: str, now: datetime) -> Delivery | None:
        """Mark the next due pending row of an active subscriber `sending` (this runner's); None if none."""
        ...

    async def next_due(self, issue_id: str) -> datetime | None:
        """When the next pending row of an active subscriber is due; None when there is none left."""
        ...

    async def part_sent(self, delivery_id: int, runner: str, parts_sent: int, message_id: int | None,
                        now: datetime) -> None: ...

    async def finish(self, delivery_id: int, runner: str, state: DeliveryState, now: datetime, *,
                     parts_sent: int | None = None, message_id: int | None = None, error: str | None = None) -> None:
        """Settle a row this runner holds; BLOCKED also marks the subscriber unreachable."""
        ...

    async def retry_later(self, delivery_id: int, runner: str, now: datetime, *, parts_sent: int,
                          retry_at: datetime | None, error: str | None, count_attempt: bool) -> None:
        """Put a row this runner holds back to pending: the message did not go out."""
        ...

    async def skip_inactive(self, issue_id: str, now: datetime) -> int:
        """Pending rows of subscribers no longer active become skipped; returns how many."""
        ...

    async def tally(self, issue_id: str) -> Mapping[DeliveryState, int]: ...

    async def uncertain(self, issue_id: str) -> list[int]:
        """Telegram ids of the issue's uncertain deliveries."""
        ...
