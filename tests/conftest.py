"""Shared fixtures: a real, empty database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.repositories import Store

DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5


def _admin_url() -> URL:
    """The server's maintenance database, from LCBOT_TEST_POSTGRES_URL (any driver suffix dropped)."""
    url = make_url(os.environ.get("LCBOT_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    return url.set(drivername="postgresql")


async def _execute(url: URL, *statements: str) -> None:
    connection = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=CONNECT_TIMEOUT_S)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _run_aside(work: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine on its own loop in a thread: the session fixture may be set up inside a test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work).result()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """lcbot_test_<random>, made once per test session and dropped WITH (FORCE) at its end.

    One database per session, emptied before each test, rather than one per test: CREATE and DROP
    DATABASE copy and remove files and took 1-2.5 s each on a busy server; emptying the schema does not.
    Skips when the server cannot be reached, or fails when CI requires it (LCBOT_REQUIRE_POSTGRES=1);
    pytest remembers the outcome, so later tests do not wait for the server again.
    """
    admin = _admin_url()
    name = f"lcbot_test_{secrets.token_hex(6)}"
    try:
        _run_aside(_execute(admin, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = f"PostgreSQL not reachable at {admin.host}:{admin.port or 5432}: {exc}"
        if os.environ.get("LCBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield admin.set(database=name)
    finally:
        _run_aside(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _emptied(database: URL) -> str:
    """The session's database with nothing in it: connections a test left open are closed first."""
    await _execute(
        database,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        "DROP SCHEMA public CASCADE",
        "CREATE SCHEMA public",
    )
    return database.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database for this test: a new SQLite file, or the emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'lcbot.db'}"
    return await _emptied(request.getfixturevalue("postgres_database"))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A Store on a database migrated to head, closed after the test."""
    await upgrade(database_url)
    database = Database(database_url)
    store = Store(database)
    try:
        yield store
    finally:
        await store.close()
        await database.close()
