"""The selective search query, timed in the database with its trigram index and without it.

The statement is the one the native list sends for ``?q=`` (``memberships.directory``: members of one org
whose email, or names once they accepted to join, contain the term; first page in membership order), compiled
from the directory's own builders with its literals in the SQL text, as the app sends them. PostgreSQL:
"without" drops the trigram indexes inside a transaction that is rolled back. SQLite: "with" goes through the
FTS5 trigram table, "without" is the same statement with the ``LIKE`` matcher (a scan).
"""

import asyncio
import sqlite3
import statistics
import time
from collections.abc import Callable

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import asyncpg as postgresql

from tenantry.core.memberships.directory import MemberCriteria, filtered, members_of
from tenantry.core.memberships.models import Membership


def statement(org_id: str, term: str, dialect: str) -> Select[tuple[object, ...]]:
    """The native first page (``limit=50``, one row more to know whether a next page exists)."""
    page = filtered(members_of(org_id), MemberCriteria(terms=(term,)), dialect)
    return page.order_by(Membership.user_id).limit(51)


def sql(org_id: str, term: str, matcher: str, compile_for: str) -> str:
    """The statement's text with every value in it: ``matcher`` picks the matcher (``sqlite``: FTS5,
    ``postgresql``: ``LIKE``), ``compile_for`` the dialect it is written for."""
    dialect = postgresql.dialect() if compile_for == "postgresql" else sqlite_dialect.dialect()
    compiled = statement(org_id, term, matcher).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


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
            _median_ms(lambda q=sql(org_id, term, "sqlite", "sqlite"): connection.execute(q).fetchall(), repeat)
            for term in terms
        )
        without = statistics.median(
            _median_ms(lambda q=sql(org_id, term, "postgresql", "sqlite"): connection.execute(q).fetchall(), 1)
            for term in terms
        )
    finally:
        connection.close()
    return with_index, without


async def _postgresql_medians(dsn: str, org_id: str, terms: list[str], repeat: int) -> tuple[float, float]:
    connection = await asyncpg.connect(dsn)

    async def median_of(term: str, times: int) -> float:
        query = sql(org_id, term, "postgresql", "postgresql")
        samples = []
        for _ in range(times):
            started = time.perf_counter()
            await connection.fetch(query)
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
