"""Events: audit rows in the event catalog carry their type, and a flag until the worker dispatched them.

Rows written before this revision get their catalog type (so the feeds show history) but are not
dispatched: webhooks did not exist when they happened.

Revision ID: 0013
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.core.events.catalog import event_type_for

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("dispatch_pending IS NOT NULL")


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("event_type", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("dispatch_pending", sa.Boolean(), nullable=True))
    op.create_index("ix_audit_events_created_at_id", "audit_events", ["created_at", "id"])
    op.create_index(
        "ix_audit_events_dispatch_pending", "audit_events", ["id"], sqlite_where=_PENDING, postgresql_where=_PENDING
    )
    audit_events = sa.table("audit_events", sa.column("action", sa.String), sa.column("event_type", sa.String))
    actions = sa.select(audit_events.c.action).distinct()
    for (action,) in op.get_bind().execute(actions):
        event_type = event_type_for(action)
        if event_type is not None:
            op.execute(audit_events.update().where(audit_events.c.action == action).values(event_type=event_type))


def downgrade() -> None:
    op.drop_index("ix_audit_events_dispatch_pending", table_name="audit_events")
    op.drop_index("ix_audit_events_created_at_id", table_name="audit_events")
    op.drop_column("audit_events", "dispatch_pending")
    op.drop_column("audit_events", "event_type")
