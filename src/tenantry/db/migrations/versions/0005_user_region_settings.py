"""Users: a region (ISO 3166-1 alpha-2) and per-user settings (JSON object).

Plain ADD/DROP COLUMN rather than batch mode: a batch rebuild of ``users`` on SQLite would lose the
``lower(email)`` expression index, which SQLite cannot reflect. ``settings`` keeps a server default of
``{}`` so rows that exist before the upgrade get an empty object.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("region", sa.String(2)))
    op.add_column("users", sa.Column("settings", JSON, nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    op.drop_column("users", "settings")
    op.drop_column("users", "region")
