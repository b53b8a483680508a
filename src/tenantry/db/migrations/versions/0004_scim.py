"""Provisioning (SCIM): row versions for ETags, per-organization external ids and profiles, role states.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, at, ref

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("memberships", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("memberships", sa.Column("external_id", sa.String(255)))
    op.add_column("memberships", sa.Column("profile", JSON, nullable=False, server_default=sa.text("'{}'")))
    op.create_index("ix_memberships_org_id_external_id", "memberships", ["org_id", "external_id"])
    op.create_table(
        "org_role_states",
        ref("org_id", "organizations", primary_key=True),
        ref("role_id", "roles", primary_key=True),
        sa.Column("external_id", sa.String(255)),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        at("created_at"),
        at("updated_at"),
    )


def downgrade() -> None:
    op.drop_table("org_role_states")
    # Plain ALTER TABLE, not batch mode, on SQLite too (3.35+): recreating a table there would lose the
    # expression index of `users` and cascade-delete the grants that reference `memberships`.
    op.drop_index("ix_memberships_org_id_external_id", table_name="memberships")
    for column in ("profile", "external_id", "version"):
        op.drop_column("memberships", column)
    op.drop_column("users", "version")
