"""Storage fixtures: the shared `store`, on a clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage.repositories import Store


class FakeClock:
    """A clock that stands still until told to move, so timestamps in assertions are exact."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(store: Store, clock: FakeClock) -> Store:
    """The shared fixture's migrated database, with repositories reading the fake clock."""
    return Store(store.database, clock)
