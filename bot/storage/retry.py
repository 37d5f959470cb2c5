"""Bounded retries with backoff for storage calls, so a database that blinks costs a short wait, not an error.

After the last attempt a connection-level failure becomes `StorageUnavailable` (a core exception): the
Telegram adapter answers "please try again in a minute" in the user's language. Errors that retrying
cannot cure (a constraint violated, bad data, a bug in a query) pass through unchanged at once.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
)

from bot.core.ports import StorageUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Waits between attempts: three attempts within about half a second, then the user is told.
BACKOFF: tuple[float, ...] = (0.05, 0.3)
# One attempt may take this long: a database that hangs instead of refusing (a network partition, or a
# pool of one SQLite connection whose waiters are not woken when that connection fails to open) must not
# hold the user for SQLAlchemy's 30 s pool timeout or longer.
ATTEMPT_TIMEOUT_S = 8.0


def is_transient(error: BaseException) -> bool:
    """A failure to reach the database (refused, dropped, not accepting connections, timed out)."""
    if isinstance(error, IntegrityError | DataError | ProgrammingError | NotSupportedError):
        return False
    return isinstance(error, DBAPIError | DisconnectionError | OSError | TimeoutError | ConnectionError)


async def with_retries(call: Callable[[], Awaitable[R]], *, backoff: Sequence[float] = BACKOFF,
                       what: str = "storage call", attempt_timeout: float = ATTEMPT_TIMEOUT_S) -> R:
    """Run `call` up to len(backoff) + 1 times while it fails transiently or times out; then raise
    StorageUnavailable."""
    for attempt, delay in enumerate((*backoff, None), start=1):
        try:
            async with asyncio.timeout(attempt_timeout):
                return await call()
        except StorageUnavailable:
            raise
        except Exception as exc:
            if not is_transient(exc):
                raise
            if delay is None:
                log.warning("%s failed %d times, the database is unreachable: %s", what, attempt, _short(exc))
                raise StorageUnavailable(f"{what}: {_short(exc)}") from exc
            log.info("%s failed (attempt %d), retrying in %.2fs: %s", what, attempt, delay, _short(exc))
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


class Retrying(Generic[T]):
    """A repository whose every coroutine method is run with `with_retries`; other attributes pass through.

    Wrap only methods that may safely run twice: a write whose commit was done but whose acknowledgement
    was lost is repeated (at worst a duplicate question-log row or vote, never a lost one).
    """

    def __init__(self, target: T, backoff: Sequence[float] = BACKOFF) -> None:
        self._target = target
        self._backoff = tuple(backoff)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        what = f"{type(self._target).__name__}.{name}"

        @functools.wraps(attribute)
        async def retried(*args: Any, **kwargs: Any) -> Any:
            return await with_retries(lambda: attribute(*args, **kwargs), backoff=self._backoff, what=what)

        return retried


def retrying(target: T, backoff: Sequence[float] = BACKOFF) -> T:
    """`target` with retries on every coroutine method, typed as `target` for its callers."""
    return Retrying(target, backoff)  # type: ignore[return-value]
