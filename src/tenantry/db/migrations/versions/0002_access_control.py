"""Access control: partner links between organizations, failed sign-in counters, audit log in time order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_links",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column(
            "customer_org_id", sa.String(24), sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "partner_org_id", sa.String(24), sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("role_id", sa.String(24), sa.ForeignKey("roles.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("created_by", sa.String(24)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("customer_org_id", "partner_org_id"),
    )
    op.create_index("ix_partner_links_partner_org_id", "partner_links", ["partner_org_id"])
    op.create_index("ix_partner_links_role_id", "partner_links", ["role_id"])

    op.create_table(
        "login_failures",
        sa.Column("account_key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_login_failures_last_failure_at", "login_failures", ["last_failure_at"])
    op.create_index("ix_audit_events_org_id_created_at_id", "audit_events", ["org_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_org_id_created_at_id", table_name="audit_events")
    op.drop_table("login_failures")
    op.drop_table("partner_links")
