"""Shared fixtures: a real, freshly made database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.repositories import Store

DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5

# Why PostgreSQL was unusable, remembered for the session so later tests skip without waiting again.
_postgres_problem = pytest.StashKey[str]()


def _admin_url() -> URL:
    """The server's maintenance database, from LCBOT_TEST_POSTGRES_URL (any driver suffix dropped)."""
    url = make_url(os.environ.get("LCBOT_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    return url.set(drivername="postgresql")


def _unusable(config: pytest.Config, reason: str) -> None:
    """Skip, unless CI said PostgreSQL is required (LCBOT_REQUIRE_POSTGRES=1): then fail."""
    config.stash[_postgres_problem] = reason
    if os.environ.get("LCBOT_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


async def _admin_connection(admin: URL) -> asyncpg.Connection:
    return await asyncpg.connect(admin.render_as_string(hide_password=False), timeout=CONNECT_TIMEOUT_S)


@asynccontextmanager
async def _postgres_database(config: pytest.Config) -> AsyncIterator[str]:
    """Create lcbot_test_<random> for one test and drop it afterwards, whatever the test left open."""
    if config.stash.get(_postgres_problem, None):
        _unusable(config, config.stash[_postgres_problem])
    admin = _admin_url()
    name = f"lcbot_test_{secrets.token_hex(6)}"
    problem = None
    try:
        connection = await _admin_connection(admin)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        problem = f"PostgreSQL not reachable at {admin.host}:{admin.port or 5432}: {exc}"
    if problem:
        _unusable(config, problem)
    try:
        yield admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        connection = await _admin_connection(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database that exists for this test only."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'lcbot.db'}"
        return
    async with _postgres_database(request.config) as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A Store on a database migrated to head, closed after the test."""
    await upgrade(database_url)
    database = Database(database_url)
    try:
        yield Store(database)
    finally:
        await database.close()
