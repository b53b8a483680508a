"""The Alembic revisions build exactly the schema the models describe, and run both ways."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
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


async def _alembic(database: Database, upgrade: bool, target: str) -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        (command.upgrade if upgrade else command.downgrade)(config, target)

    # No transaction of ours: on PostgreSQL 0024 and 0027 commit Alembic's (see migrate.upgrade).
    async with database.engine.connect() as connection:
        await connection.run_sync(run)


async def _downgrade_to_base(database: Database) -> None:
    await _alembic(database, False, "base")


async def test_0024_brings_the_events_branch_whose_index_it_rebuilds(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        database = Database(url)
        try:
            await _alembic(database, True, "0024")  # its own line of revisions does not create audit_events
            assert "0024" in await migrate.current_revisions(database)
            async with database.engine.connect() as connection:
                tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
                indexes = await connection.run_sync(lambda sync: sa.inspect(sync).get_indexes("audit_events"))
            assert "audit_events" in tables
            pending = next(index for index in indexes if index["name"] == "ix_audit_events_dispatch_pending")
            assert pending["column_names"] == ["created_at", "id"]
        finally:
            await database.dispose()


async def test_search_index_follows_inserts_updates_and_deletes(database: Database) -> None:
    """The SQLite FTS5 table is kept by triggers; PostgreSQL's trigram indexes by the database itself."""
    from sqlalchemy import text

    if not database.is_sqlite:
        async with database.engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT relname, reloptions, attstattarget FROM pg_class "
                    "JOIN pg_attribute ON attrelid = pg_class.oid WHERE relname LIKE '%_trgm'"
                )
            )
            found = {name: (options, target) for name, options, target in rows}
        for name in ("ix_users_email_trgm", "ix_users_first_name_trgm", "ix_users_last_name_trgm"):
            options, target = found[name]
            # 0022: a short pending list, so a search reads few unmerged rows and the planner keeps the indexes.
            assert options == ["gin_pending_list_limit=256"]
            # 0023: the email's histogram has 1,000 entries, so a term one entry holds is not estimated at 1%.
            assert target == (1000 if name == "ix_users_email_trgm" else -1)
        return
    async with database.engine.connect() as connection:
        triggers = set(await connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {"users_search_insert", "users_search_update", "users_search_delete"} <= triggers
        await connection.execute(text("INSERT INTO users_search(users_search) VALUES ('integrity-check')"))


_ACCOUNT = (
    "INSERT INTO users (id, email, first_name, last_name, attributes, status, email_verified, "
    "password_change_required, platform_admin, created_at, updated_at) VALUES "
    "(:id, :email, '', '', '{}', :status, false, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


async def test_email_keys_are_backfilled_and_collisions_set_aside_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two live accounts whose emails were different spellings of one address (composed and decomposed é)
    existed before 0008: the older keeps the key, the later one is set aside with a logged warning."""
    import unicodedata

    from alembic import command
    from sqlalchemy import text

    composed, decomposed = (unicodedata.normalize(form, "josé@acme.test") for form in ("NFC", "NFD"))
    accounts = [
        ("a" * 24, composed, "active"),
        ("b" * 24, decomposed, "active"),
        ("c" * 24, "JOSÉ@acme.test", "deleted"),
        ("d" * 24, "Other@acme.test", "active"),
    ]

    def migrate_to(revision: str, upgrade: bool) -> Callable[[Connection], None]:
        def run(connection: Connection) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            (command.upgrade if upgrade else command.downgrade)(config, revision)

        return run

    with empty_database(tmp_path) as url:
        database = Database(url)
        try:
            await migrate.upgrade(database)
            async with database.engine.connect() as connection:  # past 0024: see _downgrade_to_base
                await connection.run_sync(migrate_to("0007", upgrade=False))
                for user_id, email, status in accounts:
                    await connection.execute(text(_ACCOUNT), {"id": user_id, "email": email, "status": status})
                await connection.commit()
            with caplog.at_level(logging.WARNING, logger="tenantry.migrations"):
                await migrate.upgrade(database)
            async with database.engine.connect() as connection:
                keys = dict((await connection.execute(text("SELECT id, email_key FROM users"))).all())
        finally:
            await database.dispose()
    assert keys == {
        "a" * 24: composed,
        "b" * 24: f"conflict:{'b' * 24}",
        "c" * 24: composed,
        "d" * 24: "other@acme.test",
    }
    assert any("a" * 24 in record.message and "b" * 24 in record.message for record in caplog.records)


async def test_mfa_audit_rows_written_before_0018_get_their_own_event_types_back_and_forth(tmp_path: Path) -> None:
    """Before 0018 an administrator's reset was published as ``mfa.removed`` and a recovery code used or a
    wrong code was audit-only; 0018 gives those rows their own types (not dispatched), and undoes it."""
    from alembic import command
    from sqlalchemy import text

    def migrate_to(revision: str, upgrade: bool) -> Callable[[Connection], None]:
        def run(connection: Connection) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            (command.upgrade if upgrade else command.downgrade)(config, revision)

        return run

    before = {
        "mfa.reset": "mfa.removed",
        "mfa.recovery_code_used": None,
        "mfa.failed": None,
        "mfa.removed": "mfa.removed",
    }
    insert = text(
        "INSERT INTO audit_events (id, action, details, event_type, created_at) "
        "VALUES (:id, :action, '{}', :event_type, CURRENT_TIMESTAMP)"
    )
    read = text("SELECT action, event_type, dispatch_pending FROM audit_events")
    with empty_database(tmp_path) as url:
        database = Database(url)
        try:
            await migrate.upgrade(database)
            async with database.engine.begin() as connection:
                await connection.run_sync(migrate_to("0013", upgrade=False))
                for number, (action, event_type) in enumerate(before.items()):
                    await connection.execute(
                        insert, {"id": f"{number:024d}", "action": action, "event_type": event_type}
                    )
            await migrate.upgrade(database)
            async with database.engine.connect() as connection:
                upgraded = {
                    action: (event_type, pending) for action, event_type, pending in await connection.execute(read)
                }
            async with database.engine.begin() as connection:
                await connection.run_sync(migrate_to("0013", upgrade=False))
                downgraded = {action: event_type for action, event_type, _ in await connection.execute(read)}
        finally:
            await database.dispose()
    assert upgraded == {action: (action, None) for action in before}
    assert downgraded == before


async def test_events_dispatched_before_0020_are_numbered_for_the_feeds_by_time(tmp_path: Path) -> None:
    """0020 numbers the events already dispatched by time then id; events still to dispatch, and audit-only
    rows, get no position (the worker numbers the former when it dispatches them)."""
    from alembic import command
    from sqlalchemy import text

    def migrate_to(revision: str, upgrade: bool) -> Callable[[Connection], None]:
        def run(connection: Connection) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            (command.upgrade if upgrade else command.downgrade)(config, revision)

        return run

    rows = [  # id, event_type, dispatch_pending, seconds after the first
        ("c" * 24, "user.created", None, 0),
        ("a" * 24, "user.updated", None, 5),
        ("b" * 24, "user.updated", None, 5),
        ("d" * 24, None, None, 1),
        ("e" * 24, "user.deleted", True, 2),
    ]
    insert = text(
        "INSERT INTO audit_events (id, action, details, event_type, dispatch_pending, created_at) "
        "VALUES (:id, 'x.y', '{}', :event_type, :pending, :at)"
    )
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with empty_database(tmp_path) as url:
        database = Database(url)
        try:
            await migrate.upgrade(database)
            async with database.engine.begin() as connection:
                await connection.run_sync(migrate_to("0018", upgrade=False))
                for row_id, event_type, pending, seconds in rows:
                    values = {"id": row_id, "event_type": event_type, "pending": pending}
                    await connection.execute(insert, {**values, "at": start + timedelta(seconds=seconds)})
            await migrate.upgrade(database)
            async with database.engine.connect() as connection:
                read = text("SELECT id, feed_position FROM audit_events")
                positions = {row[0]: row[1] for row in await connection.execute(read)}
            async with database.engine.begin() as connection:
                await connection.run_sync(migrate_to("0018", upgrade=False))
        finally:
            await database.dispose()
    assert positions == {"c" * 24: 1, "a" * 24: 2, "b" * 24: 3, "d" * 24: None, "e" * 24: None}


async def test_webhooks_pending_before_0027_name_their_endpoint_for_the_lanes(tmp_path: Path) -> None:
    """0027 copies the endpoint of each pending webhook message from its payload to the column the worker's lanes
    claim by; an email names none (the mail lane's), nor does a webhook already settled (no lane claims it)."""
    from sqlalchemy import text

    rows = [  # id, kind, status, payload
        ("a" * 24, "webhook", "pending", '{"endpoint_id": "eeeeeeeeeeeeeeeeeeeeeeee", "event_id": "x"}'),
        ("b" * 24, "webhook", "sent", "{}"),
        ("c" * 24, "email", "pending", '{"to": "someone@example.com"}'),
    ]
    insert = text(
        "INSERT INTO outbox_messages (id, kind, payload, status, attempts, next_attempt_at, created_at) "
        "VALUES (:id, :kind, :payload, :status, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )

    with empty_database(tmp_path) as url:
        database = Database(url)
        try:
            await migrate.upgrade(database)
            await _alembic(database, False, "0026")
            async with database.engine.begin() as connection:
                for row_id, kind, status, payload in rows:
                    await connection.execute(insert, {"id": row_id, "kind": kind, "status": status, "payload": payload})
            await migrate.upgrade(database)
            async with database.engine.connect() as connection:
                read = text("SELECT id, webhook_endpoint_id FROM outbox_messages")
                endpoints = dict((await connection.execute(read)).all())
        finally:
            await database.dispose()
    assert endpoints == {"a" * 24: "e" * 24, "b" * 24: None, "c" * 24: None}
