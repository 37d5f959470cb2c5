"""A per-user flood limit: at most `limit` updates in any `window` seconds, with one warning per burst.

Kept in memory, per process, on purpose: it is a courtesy brake on a runaway client, not a security
boundary, and it must keep working when the database does not. With N instances behind a load balancer a
user can reach up to N × `limit` before being slowed down, which is still far from abuse; sharing the
counters in the database would cost a write per update and fail together with the database.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first update over the limit in this burst: tell the user to slow down
    DROP = "drop"  # further updates of the same burst: ignore silently


@dataclass
class _Track:
    times: deque[float]
    warned: bool = False


class FloodGuard:
    def __init__(self, limit: int = 20, window: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("the flood limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._tracks: dict[int, _Track] = {}
        self._next_sweep = clock() + window

    def check(self, user_id: int) -> Verdict:
        """Count one update from `user_id`; refused updates are not counted, so a burst ends `window` after
        the last accepted one."""
        now = self._clock()
        self._sweep(now)
        track = self._tracks.setdefault(user_id, _Track(deque()))
        while track.times and now - track.times[0] >= self.window:
            track.times.popleft()
        if len(track.times) < self.limit:
            track.times.append(now)
            track.warned = False
            return Verdict.ALLOW
        if track.warned:
            return Verdict.DROP
        track.warned = True
        return Verdict.WARN

    def _sweep(self, now: float) -> None:
        """Forget users quiet for a whole window, so memory follows the active users only."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        quiet = [uid for uid, track in self._tracks.items() if not track.times or now - track.times[-1] >= self.window]
        for uid in quiet:
            del self._tracks[uid]

    def __len__(self) -> int:
        return len(self._tracks)
