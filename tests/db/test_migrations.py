"""The Alembic revisions build exactly the schema the models describe, and run both ways."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from tenantry.core.models import Base
from tenantry.db import migrate
from tenantry.db.engine import Database
from tests.conftest import empty_database


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": migrate.include_object}
    )
    return list(compare_metadata(context, Base.metadata))


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning", "ignore:.*expression-based index")
async def test_migrated_schema_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    # SQLite cannot reflect expression indexes (lower(email)); Alembic skips them there with a warning.
    assert differences == []


async def test_upgrade_downgrade_upgrade_on_an_empty_database(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        database = Database(url)
        try:
            assert not await migrate.is_current(database)
            await migrate.upgrade(database)
            assert await migrate.is_current(database)
            await _downgrade_to_base(database)
            assert await migrate.current_revisions(database) == set()
            await migrate.upgrade(database)
            assert await migrate.is_current(database)
        finally:
            await database.dispose()


async def _downgrade_to_base(database: Database) -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def test_search_index_follows_inserts_updates_and_deletes(database: Database) -> None:
    """The SQLite FTS5 table is kept by triggers; PostgreSQL's trigram indexes by the database itself."""
    from sqlalchemy import text

    if not database.is_sqlite:
        async with database.engine.connect() as connection:
            names = set(await connection.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")))
        assert {"ix_users_email_trgm", "ix_users_first_name_trgm", "ix_users_last_name_trgm"} <= names
        return
    async with database.engine.connect() as connection:
        triggers = set(await connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {"users_search_insert", "users_search_update", "users_search_delete"} <= triggers
        await connection.execute(text("INSERT INTO users_search(users_search) VALUES ('integrity-check')"))
