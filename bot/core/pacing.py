"""Pacing under Telegram's overall limit (about 30 messages a second for bulk sends): evenly spaced slots.

Evenly spaced rather than a bucket that may burst: Telegram (and the stand-in) count messages in a sliding
second, and a burst after a stall is exactly what trips a 429. Replies to users in the same process go out
at once and take the broadcast's next slot, so the two together stay under the limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Below 30/s on purpose: the margin absorbs the jitter between taking a slot and the request reaching
# Telegram (a database write sits in between), which would otherwise squeeze 31 sends into one second.
DEFAULT_RATE = 28.0
MAX_DEBT_S = 1.0  # a burst of replies delays the broadcast by one second at most
PAUSE_MARGIN_S = 0.1  # added to every retry_after, as python-telegram-bot's AIORateLimiter does


class Pacer:
    """At most `rate` messages a second, spaced evenly; `pause` stops every sender for a while (429)."""

    def __init__(self, rate: float = DEFAULT_RATE, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0

    async def wait(self) -> None:
        """Return at this caller's slot; a pause that starts meanwhile moves the slot past it."""
        while True:
            now = self._clock()
            slot = max(self._next, now, self._paused_until)
            self._next = slot + self.interval
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until <= slot:
                return

    def note_send(self) -> None:
        """Another message left this process (a reply to a user): it uses up the next slot."""
        now = self._clock()
        self._next = min(max(self._next, now) + self.interval, now + MAX_DEBT_S)

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after `seconds`": nobody sends before then (plus a small margin)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds + PAUSE_MARGIN_S)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())
