"""Resources (typed, hierarchical), role grants scoped to a resource, and per-user configurations.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UNSCOPED = sa.text("resource_id IS NULL")


def _at(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("org_id", sa.String(24), sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(24), sa.ForeignKey("resources.id")),
        sa.Column("external_id", sa.String(200)),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("org_id", "external_id"),
    )
    op.create_index("ix_resources_org_id_id", "resources", ["org_id", "id"])
    op.create_index("ix_resources_parent_id", "resources", ["parent_id"])

    op.create_table(
        "membership_resource_roles",
        sa.Column(
            "membership_id", sa.String(24), sa.ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role_id", sa.String(24), sa.ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("resource_id", sa.String(24), sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_membership_resource_roles_role_id", "membership_resource_roles", ["role_id"])
    op.create_index("ix_membership_resource_roles_resource_id", "membership_resource_roles", ["resource_id"])

    op.create_table(
        "configurations",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("org_id", sa.String(24), sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(24), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("resource_id", sa.String(24), sa.ForeignKey("resources.id", ondelete="CASCADE")),
        sa.Column("document", JSON, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("org_id", "user_id", "resource_id"),
    )
    op.create_index("ix_configurations_user_id", "configurations", ["user_id"])
    op.create_index("ix_configurations_resource_id", "configurations", ["resource_id"])
    op.create_index(
        "uq_configurations_org_user_unscoped",
        "configurations",
        ["org_id", "user_id"],
        unique=True,
        sqlite_where=UNSCOPED,
        postgresql_where=UNSCOPED,
    )


def downgrade() -> None:
    for table in ("configurations", "membership_resource_roles", "resources"):
        op.drop_table(table)
