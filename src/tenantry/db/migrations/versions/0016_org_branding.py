"""Branding per organization: display name, colour, logo (stored here), support address, sender name.

Revision ID: 0016
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import at, ref

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_branding",
        ref("org_id", "organizations", primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("primary_color", sa.String(7), nullable=True),
        sa.Column("support_email", sa.String(320), nullable=True),
        sa.Column("email_from_name", sa.String(100), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(32), nullable=True),
        sa.Column("logo_etag", sa.String(64), nullable=True),
        at("updated_at"),
    )


def downgrade() -> None:
    op.drop_table("org_branding")
