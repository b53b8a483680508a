"""The worker reads the oldest events still to dispatch from the index that holds only them, in that order."""

from sqlalchemy import text

from tenantry.core.webhooks.dispatch import OLDEST_PENDING
from tenantry.db.engine import Database


async def test_the_oldest_pending_events_come_from_their_own_index_without_a_sort(database: Database) -> None:
    """Before 0024 the index held ids only: SQLite walked every event ever written in time order, past those
    already dispatched, and PostgreSQL did so or sorted every pending event."""
    async with database.engine.connect() as connection:
        sql = str(OLDEST_PENDING.limit(200).compile(connection.sync_connection, compile_kwargs={"literal_binds": True}))
        if database.is_sqlite:
            plan = " ".join(str(row[-1]) for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING INDEX ix_audit_events_dispatch_pending" in plan
            assert "TEMP B-TREE" not in plan
        else:
            # The test's tables are tiny: a scan of the table, or a bitmap of the few pending rows sorted, would win.
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            await connection.execute(text("SET LOCAL enable_bitmapscan = off"))
            plan = " ".join(row[0] for row in await connection.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_audit_events_dispatch_pending" in plan
            assert "Sort" not in plan
