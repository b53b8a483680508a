"""Row versions: a counter every ORM change to a row bumps, in the database, for ETags and conditional writes.

A model that mixes in ``Versioned`` gets a ``version`` column. Before every flush, each such row the
session changed (a column or a relationship collection) is given ``version = version + 1``: the increment
runs in the database, so two transactions changing one row never produce the same version, and
RETURNING (``eager_defaults``) brings the new value back without another query.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import FetchedValue, Integer, event, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from tenantry.db.base import utcnow

_CHUNK = 1000  # ids per IN list: well under SQLite's bound on bound parameters


class Versioned:
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", server_onupdate=FetchedValue())


@event.listens_for(Session, "before_flush")
def _bump_versions(session: Session, _context: UOWTransaction, _instances: object) -> None:
    for instance in session.dirty:
        if isinstance(instance, Versioned) and session.is_modified(instance):
            instance.version = type(instance).version + 1


async def write_all(session: AsyncSession, rows: Sequence[Any], **values: Any) -> None:
    """Write ``values`` to the loaded ``rows`` (of one ``Versioned``, timestamped model) as a flush would, their
    versions bumped and ``updated_at`` now, in one UPDATE per thousand rows where a flush writes each row apart
    (thousands of round trips); the loaded rows then read as written."""
    if not rows:
        return
    model = type(rows[0])
    now = utcnow()
    values = {**values, "updated_at": now}
    for start in range(0, len(rows), _CHUNK):
        chunk = {row.id: row for row in rows[start : start + _CHUNK]}
        statement = (
            update(model)
            .where(model.id.in_(list(chunk)))
            .values(**values, version=model.version + 1)
            .returning(model.id, model.version)
            .execution_options(synchronize_session=False)
        )
        for row_id, version in await session.execute(statement):
            for key, value in (*values.items(), ("version", version)):
                set_committed_value(chunk[row_id], key, value)
