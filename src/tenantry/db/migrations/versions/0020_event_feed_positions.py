"""Events get a ``feed_position`` when the worker dispatches them, and the feeds list them by it: listed by
time and id, an event whose transaction committed late appeared behind a cursor that had already passed it,
and a client polling with ``after`` never saw it. Events already dispatched are numbered by time and id.

Revision ID: 0020
Revises: 0018 (the event types of the MFA events)
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("feed_position", sa.BigInteger(), nullable=True))
    op.execute(
        "WITH ranked AS (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS position FROM audit_events"
        " WHERE event_type IS NOT NULL AND dispatch_pending IS NULL)"
        " UPDATE audit_events SET feed_position = ranked.position FROM ranked WHERE audit_events.id = ranked.id"
    )
    op.create_index("ix_audit_events_feed_position", "audit_events", ["feed_position"], unique=True)
    op.create_index("ix_audit_events_org_id_feed_position", "audit_events", ["org_id", "feed_position"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_org_id_feed_position", table_name="audit_events")
    op.drop_index("ix_audit_events_feed_position", table_name="audit_events")
    op.drop_column("audit_events", "feed_position")
