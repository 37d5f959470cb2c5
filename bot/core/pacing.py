"""Pacing under Telegram's overall limit (about 30 messages a second for bulk sends): evenly spaced slots.

Evenly spaced rather than a bucket that may burst: Telegram (and the stand-in) count messages in a sliding
second, and a burst after a stall is exactly what trips a 429. Two gates at the same cadence: `wait()`
lets one sender through per slot to pick its next subscriber (a database write), and `send_slot()`, right
before the request, spaces the requests themselves, so a slow database write cannot squeeze two sends
together. Replies to users in the same process go out at once and take the next slot of both gates
(`note_send`), so replies and broadcast together stay under the limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Below 30/s on purpose: the margin absorbs replies to users sent between two broadcast messages and the
# jitter of requests on their way, which would otherwise put a 31st message into some second.
DEFAULT_RATE = 28.0
MAX_DEBT_S = 1.0  # a burst of replies delays the broadcast by one second at most
PAUSE_MARGIN_S = 0.1  # added to every retry_after, as python-telegram-bot's AIORateLimiter does
LATE_TOLERANCE = 0.25  # of an interval: a slot taken this late keeps the cadence; later, the cadence restarts
# Telegram's limits are not published and others may share the bot's budget (a bot process answering users
# while `lcbot broadcast` runs in another): after a 429 the rate drops by a tenth, and comes back step by
# step while no 429 comes, so a run settles just under what is left instead of hitting the limit again.
SLOW_DOWN = 0.9
RECOVERY_S = 5.0
RECOVERY_STEP = 0.5  # messages a second, every RECOVERY_S without a 429
MIN_RATE = 1.0


class Pacer:
    """At most `rate` messages a second, spaced evenly; `pause` stops every sender for a while (429)."""

    def __init__(self, rate: float = DEFAULT_RATE, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.target = rate  # what was asked for
        self.rate = rate  # what is used now: lower for a while after a 429
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._turn = 0.0  # when the next sender may pick a subscriber
        self._send = 0.0  # when the next request may leave
        self._paused_until = 0.0
        self._changed_at = clock()  # the rate's last change (slowed down or recovered)

    def _after(self, slot: float, now: float) -> float:
        """The slot after one taken at `now`: on cadence when taken on time, else one interval from now."""
        if now - slot <= LATE_TOLERANCE * self.interval:
            return slot + self.interval
        return now + self.interval

    async def wait(self) -> None:
        """Return at this sender's turn (one per slot); a reply or a pause meanwhile moves it back."""
        while True:
            now = self._clock()
            self._recover(now)
            due = max(self._turn, self._paused_until)
            if now >= due:
                self._turn = self._after(self._turn, now)
                return
            await self._sleep(due - now)

    async def send_slot(self) -> None:
        """Return when the request may leave: never closer than one interval to the previous one."""
        while True:
            now = self._clock()
            due = max(self._send, self._paused_until)
            if now >= due:
                self._send = self._after(self._send, now)
                return
            await self._sleep(due - now)

    def note_send(self) -> None:
        """Another message left this process (a reply to a user): it uses up the next slot."""
        now = self._clock()
        self._turn = min(max(self._turn, now) + self.interval, now + MAX_DEBT_S)
        self._send = min(max(self._send, now) + self.interval, now + MAX_DEBT_S)

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after `seconds`": nobody sends before then (plus a small margin), and the
        rate drops once per pause (the other messages in flight get their 429 too)."""
        now = self._clock()
        if self._paused_until <= now:
            self._set_rate(max(MIN_RATE, self.rate * SLOW_DOWN), now)
        self._paused_until = max(self._paused_until, now + seconds + PAUSE_MARGIN_S)

    def _recover(self, now: float) -> None:
        if self.rate < self.target and now - max(self._changed_at, self._paused_until) >= RECOVERY_S:
            self._set_rate(min(self.target, self.rate + RECOVERY_STEP), now)

    def _set_rate(self, rate: float, now: float) -> None:
        self.rate, self.interval, self._changed_at = rate, 1.0 / rate, now

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())
