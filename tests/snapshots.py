"""Every row of every table, to prove that a refused request changed nothing (as the route walker does)."""

from typing import Any

from sqlalchemy import select

from tenantry.db.base import Base
from tenantry.runtime import Runtime

Rows = dict[str, list[tuple[Any, ...]]]


async def every_row(runtime: Runtime, *, skip: tuple[str, ...] = ()) -> Rows:
    """The rows of each table (``skip``: tables a refusal writes on purpose, such as the lockout count)."""
    async with runtime.database.transaction(write=False) as session:
        return {
            table.name: sorted(tuple(map(str, row)) for row in await session.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name not in skip
        }
