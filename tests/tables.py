"""Every table's rows, as text: two snapshots equal means nothing was written (the route walker's proof)."""

from typing import Any

from sqlalchemy import select

from tenantry.core.models import Base
from tenantry.runtime import Runtime

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(runtime: Runtime) -> Snapshot:
    async with runtime.database.transaction(write=False) as session:
        return {
            table.name: sorted(tuple(map(str, row)) for row in await session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }
