"""Resources (typed, hierarchical), role grants scoped to a resource, and per-user configurations.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, at, id_column, ref

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSCOPED = sa.text("resource_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "resources",
        id_column(),
        ref("org_id", "organizations"),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(24), sa.ForeignKey("resources.id")),
        sa.Column("external_id", sa.String(200)),
        sa.Column("active", sa.Boolean(), nullable=False),
        at("created_at"),
        at("updated_at"),
        sa.UniqueConstraint("org_id", "external_id"),
    )
    op.create_index("ix_resources_org_id_id", "resources", ["org_id", "id"])
    op.create_index("ix_resources_parent_id", "resources", ["parent_id"])

    op.create_table(
        "membership_resource_roles",
        ref("membership_id", "memberships", primary_key=True),
        ref("role_id", "roles", ondelete="RESTRICT", primary_key=True),
        ref("resource_id", "resources", primary_key=True),
    )
    op.create_index("ix_membership_resource_roles_role_id", "membership_resource_roles", ["role_id"])
    op.create_index("ix_membership_resource_roles_resource_id", "membership_resource_roles", ["resource_id"])

    op.create_table(
        "configurations",
        id_column(),
        ref("org_id", "organizations"),
        ref("user_id", "users"),
        ref("resource_id", "resources", nullable=True),
        sa.Column("document", JSON, nullable=False),
        at("created_at"),
        at("updated_at"),
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
