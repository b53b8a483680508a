"""A backlog of due webhooks for one endpoint costs the worker's polls nothing: every statement the worker sends the
outbox, the idle mail lane's check and the webhook lanes' fill past the busy endpoint included, reads a few rows
of an index, not the backlog. The worker polls every second, inside `tenantry serve` by default."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantry.core.outbox.models import PENDING, SENT, OutboxMessage
from tenantry.core.webhooks import service as webhooks
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.db.engine import Database
from tenantry.db.ids import new_id
from tenantry.runtime import Runtime
from tests.events.conftest import deliveries_held, publish
from tests.factories import Tenant

BACKLOG = 2_000


async def _backlog(runtime: Runtime, org_id: str) -> None:
    """``BACKLOG`` webhook messages due for one endpoint, older than anything else, as a receiver that is slow to
    answer leaves them (written as the worker writes them: ``webhooks.enqueue``)."""
    endpoint = WebhookEndpoint(id=new_id(), org_id=org_id)
    async with runtime.database.transaction() as session:
        for _ in range(BACKLOG):
            webhooks.enqueue(session, endpoint, new_id())


@contextmanager
def _outbox_statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The reads and updates of the outbox ``database`` sends while the block runs, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "outbox_messages" in statement and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            sent.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def _sqlite_steps(connection: AsyncConnection, statement: str, parameters: Any) -> int:
    """SQLite's virtual machine instructions to run ``statement``: a row read costs several."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    driver = (await connection.get_raw_connection()).driver_connection
    await driver.set_progress_handler(count, 1)
    try:
        await connection.exec_driver_sql(statement, parameters)
    finally:
        await driver.set_progress_handler(None, 1)
    return steps[0]


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows a PostgreSQL plan read from outbox_messages (returned or filtered out, in every loop)."""
    own = 0
    if plan.get("Relation Name") == "outbox_messages":
        per_loop = (
            plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0) + plan.get("Rows Removed by Index Recheck", 0)
        )
        own = per_loop * plan["Actual Loops"]
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


async def _postgres_rows(connection: AsyncConnection, statement: str, parameters: Any) -> int:
    result = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
    document = result.scalar_one()
    return _rows_read((json.loads(document) if isinstance(document, str) else document)[0]["Plan"])


async def _costs(database: Database, sent: list[tuple[str, Any]]) -> dict[str, int]:
    """What each statement in ``sent`` costs when run again (rolled back: the claims lease nothing)."""
    costs = {}
    for statement, parameters in dict(sent).items():  # each statement once, with the parameters it was sent last
        async with database.engine.connect() as connection:
            if database.is_sqlite:
                costs[statement] = await _sqlite_steps(connection, statement, parameters)
            else:
                costs[statement] = await _postgres_rows(connection, statement, parameters)
    return costs


async def _settle_unclaimed(runtime: Runtime) -> None:
    unclaimed = (OutboxMessage.status == PENDING, OutboxMessage.locked_until.is_(None))
    async with runtime.database.transaction() as session:
        await session.execute(update(OutboxMessage).where(*unclaimed).values(status=SENT))


async def test_no_poll_of_the_worker_reads_the_backlog_of_a_busy_endpoint(
    runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Before, the lane conditions (kind != 'webhook'; the payload's endpoint_id NOT IN the busy ones) were not
    in the index (status, next_attempt_at): the idle mail lane's check, and each fill of the webhook lanes past
    the busy endpoint, read every due message of the backlog (100,000: 19-37 ms and 43-87 ms, every second)."""
    await _backlog(runtime, tenant.id)
    async with runtime.database.transaction() as session:  # another organization's, due after the backlog
        webhooks.enqueue(session, WebhookEndpoint(id=new_id(), org_id=other_tenant.id), new_id())
    if not runtime.database.is_sqlite:  # statistics that know the backlog, as autovacuum keeps them
        async with runtime.database.engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE outbox_messages")
    await publish(runtime)  # no event waits to be handed out: the webhook lanes' pass checks for deliveries due
    with _outbox_statements(runtime.database) as sent:
        async with deliveries_held(runtime, 2):  # the backlog's endpoint and the other one in hand, polled
            costs = await _costs(runtime.database, list(sent))  # (measured with the backlog still due)
            await _settle_unclaimed(runtime)  # (the backlog is not this test's to deliver, 5 claims a lane)
    bound = BACKLOG if runtime.database.is_sqlite else 100  # instructions (a row read costs several), or rows
    assert {statement: cost for statement, cost in costs.items() if cost >= bound} == {}
