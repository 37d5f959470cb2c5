"""Upgrade the database schema from code: `lcbot db upgrade`, the bot at start-up, and the test fixtures.

The Alembic Config is built here rather than read from alembic.ini, so it works from any folder and
after `pip install .` (the migrations ship as package files next to this module).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection

from bot.storage.database import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str | None:
    """The newest revision the code knows, to compare with `current_revision`."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is already there.

    Runs on the caller's event loop: the migration gets an open connection through `run_sync`, so
    env.py never starts a loop of its own. SQLite foreign keys stay off meanwhile (see create_engine).
    """
    engine = create_engine(url, enforce_foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(url: str | URL) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()
