"""MFA events under their own names: ``mfa.reset`` was published as ``mfa.removed``, and
``mfa.recovery_code_used`` and ``mfa.failed`` were audit-only. Rows written before this revision get
their catalog type (so the feeds show history) but are not dispatched, as in revision 0013.

Revision ID: 0018
Revises: 0013, 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = ("0013", "0015")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PUBLISHED = ("mfa.reset", "mfa.recovery_code_used", "mfa.failed")
_audit_events = sa.table("audit_events", sa.column("action", sa.String), sa.column("event_type", sa.String))


def upgrade() -> None:
    for action in _PUBLISHED:
        op.execute(_audit_events.update().where(_audit_events.c.action == action).values(event_type=action))


def downgrade() -> None:
    op.execute(_audit_events.update().where(_audit_events.c.action == "mfa.reset").values(event_type="mfa.removed"))
    audit_only = _audit_events.c.action.in_(["mfa.recovery_code_used", "mfa.failed"])
    op.execute(_audit_events.update().where(audit_only).values(event_type=None))
