"""Wait, between two loads, for the server's outbox worker to finish what the last load queued.

Creates queue an invitation email each, and every sign-in and create an event for the webhooks; the worker in
`tenantry serve` delivers them a second later, on the server's own core. Without a wait, the next load paid for
them: 30 logins/s after the create and refresh loads on SQLite, 42 with the worker out of the process, and 42
with it in the process on a database with nothing queued (4 connections, the quick seed, one core). The time
each load's queue took to drain is reported, so the deferred work stays in the figures.
"""

import asyncio
import sqlite3
import time

import asyncpg

PENDING = (
    "SELECT (SELECT count(*) FROM outbox_messages WHERE status = 'pending') "
    "+ (SELECT count(*) FROM audit_events WHERE dispatch_pending IS NOT NULL)"
)
LONGEST_SECONDS = 120.0


def _pending(url: str) -> int:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True, timeout=30)
        try:
            return int(connection.execute(PENDING).fetchone()[0])
        finally:
            connection.close()

    async def count() -> int:
        connection = await asyncpg.connect(url)
        try:
            return int(await connection.fetchval(PENDING))
        finally:
            await connection.close()

    return asyncio.run(count())


def drained(url: str) -> float:
    """Seconds until the outbox holds nothing pending and every event is dispatched (at most ``LONGEST_SECONDS``;
    a message left failing for longer would be retried for hours, not waited for)."""
    started = time.perf_counter()
    while _pending(url) and time.perf_counter() - started < LONGEST_SECONDS:
        time.sleep(0.25)
    return time.perf_counter() - started
