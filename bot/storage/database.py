"""The database connection: one async engine and its session factory, built by the composition root."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 5_000
PG_CONNECT_TIMEOUT_S = 5

# Operators write the URL they know; lcbot runs on asyncio, so sync drivers become their async twins.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}


# The backends lcbot runs on; each has its own INSERT with ON CONFLICT (see `dialect_insert`).
DIALECTS = frozenset({"postgresql", "sqlite"})


@functools.cache
def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's own INSERT (it has ON CONFLICT; SQLite and PostgreSQL spell it the same way).

    Imported for the backend in use only: a start on SQLite need not import the PostgreSQL dialect (a
    few per cent of a start). KeyError for any other backend.
    """
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise KeyError(dialect)
    return insert


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: "sqlite:///x.db" -> "sqlite+aiosqlite:///x.db", likewise PostgreSQL."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def create_engine(url: str | URL, *, enforce_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine tuned per backend.

    SQLite gets WAL (readers do not block the writer), a busy timeout (concurrent updates wait for the
    write lock instead of failing) and foreign keys (off by default in SQLite; ON DELETE CASCADE needs
    them). Migrations pass `enforce_foreign_keys=False`: Alembic's batch mode recreates tables, and
    dropping a parent table with foreign keys on would cascade-delete its children's rows.
    """
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre-ping: a connection the server dropped (restart, failover) is replaced before use.
        # A short connect timeout: an unreachable server should cost the user seconds, not asyncpg's 60.
        connect_args = {"timeout": PG_CONNECT_TIMEOUT_S} if parsed.drivername == "postgresql+asyncpg" else {}
        return create_async_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    # One connection: SQLite has one writer at a time anyway, and queueing in the pool is cheaper and
    # kinder than "database is locked" errors when many updates are handled concurrently.
    engine = create_async_engine(parsed, pool_size=1, max_overflow=0, pool_timeout=30)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode; no fsync per commit
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}")
        cursor.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, so results can be read once the unit of work ends."""
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """The engine and its sessions; owned by the composition root, which closes it on shutdown."""

    def __init__(self, url: str | URL) -> None:
        self.engine = create_engine(url)
        self.sessions = session_factory(self.engine)

    @property
    def dialect(self) -> str:
        """The backend name ("sqlite" or "postgresql"): the repositories pick the matching upsert."""
        return self.engine.dialect.name

    async def ping(self) -> bool:
        """Whether the database answers now (for health checks and `lcbot db status`)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
