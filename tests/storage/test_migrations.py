"""The Alembic migrations, run the way the bot runs them: `upgrade(url)` inside the event loop."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

from bot.storage.database import Database, async_url, create_engine
from bot.storage.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.storage.models import Base
from bot.storage.repositories import Store

TABLES = {"users", "questions", "feedback", "subscribers", "processed_updates", "broadcast_issues",
          "broadcast_deliveries"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_create_the_tables_and_record_the_head_revision(database_url: str) -> None:
    assert await current_revision(database_url) is None

    await upgrade(database_url)

    assert await _tables(database_url) >= TABLES
    assert await current_revision(database_url) == head_revision() == "0005"


async def test_upgrading_twice_is_a_no_op_that_keeps_the_data(database_url: str) -> None:
    await upgrade(database_url)
    async with Database(database_url) as database:
        await Store(database).users.touch(42, "fr")

    await upgrade(database_url)

    assert await current_revision(database_url) == head_revision()
    async with Database(database_url) as database:
        user = await Store(database).users.get(42)
    assert user is not None and user.telegram_language == "fr"


async def test_the_migrations_build_exactly_what_the_models_describe(database_url: str) -> None:
    await upgrade(database_url)

    def differences(connection: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_the_initial_migration_downgrades_to_an_empty_database(database_url: str) -> None:
    await upgrade(database_url)

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    engine = create_engine(database_url, enforce_foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
    finally:
        await engine.dispose()

    assert not TABLES & await _tables(database_url)
    assert await current_revision(database_url) is None


async def test_an_operator_url_without_async_driver_is_upgraded_to_one(database_url: str) -> None:
    plain = make_url(database_url).set(drivername=make_url(database_url).get_backend_name())

    await upgrade(plain.render_as_string(hide_password=False))

    assert async_url(plain).drivername in {"sqlite+aiosqlite", "postgresql+asyncpg"}
    assert await _tables(database_url) >= TABLES
