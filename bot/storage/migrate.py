"""Upgrade the database schema from code: `lcbot db upgrade`, the bot at start-up, and the test fixtures.

The Alembic Config is built here rather than read from alembic.ini, so it works from any folder and
after `pip install .` (the migrations ship as package files next to this module).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from bot.storage.database import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Alembic is imported only when there is something to migrate: a start on an up-to-date database skips
# its import (a fifth of a second), reading the revision ids straight from the migration files.
_REVISION = re.compile(r"""^revision\b[^=\n]*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=\n]*=(.*)$", re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str | None:
    """The newest revision the code knows, to compare with `current_revision`."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def declared_head() -> str | None:
    """The head revision read from the migration files without Alembic; None unless exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            parents.update(re.findall(r"""["']([^"']+)["']""", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _already_at(url: str | URL, head: str | None) -> bool:
    if head is None:
        return False
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception:  # no schema yet, or anything unusual: let Alembic look
        return False
    finally:
        await engine.dispose()
    return list(versions) == [head]


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is already there.

    Runs on the caller's event loop: the migration gets an open connection through `run_sync`, so
    env.py never starts a loop of its own. SQLite foreign keys stay off meanwhile (see create_engine).
    """
    if revision == "head" and await _already_at(url, declared_head()):
        return
    engine = create_engine(url, enforce_foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(url: str | URL) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()
