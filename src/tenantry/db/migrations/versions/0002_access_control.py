"""Access control: partner links between organizations, failed sign-in counters, audit log in time order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import at, id_column, ref

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_links",
        id_column(),
        ref("customer_org_id", "organizations"),
        ref("partner_org_id", "organizations"),
        ref("role_id", "roles", ondelete="RESTRICT"),
        sa.Column("created_by", sa.String(24)),
        at("created_at"),
        sa.UniqueConstraint("customer_org_id", "partner_org_id"),
    )
    op.create_index("ix_partner_links_partner_org_id", "partner_links", ["partner_org_id"])
    op.create_index("ix_partner_links_role_id", "partner_links", ["role_id"])

    op.create_table(
        "login_failures",
        sa.Column("account_key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        at("last_failure_at"),
        at("locked_until", nullable=True),
    )
    op.create_index("ix_login_failures_last_failure_at", "login_failures", ["last_failure_at"])
    op.create_index("ix_audit_events_org_id_created_at_id", "audit_events", ["org_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_org_id_created_at_id", table_name="audit_events")
    op.drop_table("login_failures")
    op.drop_table("partner_links")
