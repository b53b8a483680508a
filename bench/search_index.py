"""The selective search query, timed in the database with its trigram index and without it.

The statement is the one `users.repository.member_page` issues for `?q=` (members of one org whose
email or name contains the term, first page in id order), with the pattern in the SQL text as there.
PostgreSQL: "without" drops the trigram indexes inside a transaction that is rolled back. SQLite: "with"
goes through the FTS5 trigram table, "without" is the LIKE scan.
"""

import asyncio
import sqlite3
import statistics
import time
from collections.abc import Callable

import asyncpg

_PG = """
SELECT users.id FROM users JOIN memberships ON memberships.user_id = users.id
WHERE memberships.org_id = $1 AND users.status != 'deleted'
  AND (lower(users.email) LIKE {pattern} OR lower(users.first_name) LIKE {pattern}
       OR lower(users.last_name) LIKE {pattern})
ORDER BY users.id LIMIT 51
"""
_SQLITE_LIKE = """
SELECT users.id FROM users JOIN memberships ON memberships.user_id = users.id
WHERE memberships.org_id = ? AND users.status != 'deleted'
  AND (lower(users.email) LIKE ? OR lower(users.first_name) LIKE ? OR lower(users.last_name) LIKE ?)
ORDER BY users.id LIMIT 51
"""
_SQLITE_FTS = """
SELECT users.id FROM users JOIN memberships ON memberships.user_id = users.id
WHERE memberships.org_id = ? AND users.status != 'deleted'
  AND users.rowid IN (SELECT rowid FROM users_search WHERE users_search MATCH ?)
ORDER BY users.id LIMIT 51
"""


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def sqlite_medians(path: str, org_id: str, terms: list[str], repeat: int = 5) -> tuple[float, float]:
    connection = sqlite3.connect(path)
    try:
        with_index = statistics.median(
            _median_ms(lambda t=term: connection.execute(_SQLITE_FTS, (org_id, f'"{t}"')).fetchall(), repeat)
            for term in terms
        )
        without = statistics.median(
            _median_ms(lambda t=term: connection.execute(_SQLITE_LIKE, (org_id, *[f"%{t}%"] * 3)).fetchall(), 1)
            for term in terms
        )
    finally:
        connection.close()
    return with_index, without


async def _postgresql_medians(dsn: str, org_id: str, terms: list[str], repeat: int) -> tuple[float, float]:
    connection = await asyncpg.connect(dsn)

    async def median_of(term: str, times: int) -> float:
        samples = []
        for _ in range(times):
            started = time.perf_counter()
            # The pattern in the SQL text, as the app sends it (a parameter would get a generic plan).
            pattern = "'%" + term.replace("'", "''") + "%'"
            await connection.fetch(_PG.format(pattern=pattern), org_id)
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    try:
        with_index = statistics.median([await median_of(term, repeat) for term in terms])
        transaction = connection.transaction()
        await transaction.start()
        for column in ("email", "first_name", "last_name"):
            await connection.execute(f"DROP INDEX ix_users_{column}_trgm")
        without = statistics.median([await median_of(term, 1) for term in terms])
        await transaction.rollback()
    finally:
        await connection.close()
    return with_index, without


def postgresql_medians(dsn: str, org_id: str, terms: list[str], repeat: int = 5) -> tuple[float, float]:
    return asyncio.run(_postgresql_medians(dsn, org_id, terms, repeat))
