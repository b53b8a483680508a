"""The partial index of events still to dispatch holds them in the order the worker takes them (created_at, id).

The worker reads the oldest pending events, ``ORDER BY created_at, id LIMIT 200``. The partial index held ids
only, so the database chose between sorting every pending event and walking ``ix_audit_events_created_at_id``
from the first event ever written, past every event already dispatched. PostgreSQL walked when its statistics
said many were pending, as after a bulk import: each batch of 200 then passed the whole history (134,717
dispatched events before 1.6M pending ones: 100 ms a batch, growing with the history; 0.28 ms with this index).
SQLite always walked (7.2 ms a batch past 8,982 dispatched events in the quick bench's database; 0.7 ms with this
index), on the server's own core when the worker runs in ``tenantry serve``.

On PostgreSQL the index is built and the old one dropped CONCURRENTLY, outside the migration's transaction
(``autocommit_block``): a plain CREATE INDEX holds a SHARE lock on ``audit_events`` until the transaction ends,
and DROP INDEX an ACCESS EXCLUSIVE one, so every change (each writes an event) and the worker would wait for the
build over the whole table. The new index is built under another name and renamed once the old one is gone (a
brief lock on the index only); a run that failed midway can run again, as the build drops a leftover first.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0013"
"""The events branch, which created ``audit_events`` and the index this revision rebuilds."""

_PENDING = sa.text("dispatch_pending IS NOT NULL")
_NAME = "ix_audit_events_dispatch_pending"
_BUILDING = "ix_audit_events_dispatch_pending_building"
"""PostgreSQL: the new index's name while it is built beside the old one."""


def _index(*columns: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_NAME, table_name="audit_events")
        op.create_index(_NAME, "audit_events", list(columns), sqlite_where=_PENDING)
        return
    with op.get_context().autocommit_block():
        # A build or drop that failed midway leaves an INVALID index behind: start again from none.
        op.drop_index(_BUILDING, table_name="audit_events", if_exists=True, postgresql_concurrently=True)
        op.create_index(
            _BUILDING, "audit_events", list(columns), postgresql_where=_PENDING, postgresql_concurrently=True
        )
        op.drop_index(_NAME, table_name="audit_events", if_exists=True, postgresql_concurrently=True)
    # In the revision's transaction, so the name and alembic_version change together.
    op.execute(sa.text(f"ALTER INDEX {_BUILDING} RENAME TO {_NAME}"))


def upgrade() -> None:
    _index("created_at", "id")


def downgrade() -> None:
    _index("id")
