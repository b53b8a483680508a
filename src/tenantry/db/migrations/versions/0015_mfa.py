"""Multi-factor authentication: factors (TOTP), recovery codes, sign-in challenges; ``amr`` of refresh tokens.

Revision ID: 0015
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, at, id_column, ref

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mfa_factors",
        id_column(),
        ref("user_id", "users"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("last_used_step", sa.Integer()),
        at("created_at"),
        at("confirmed_at", nullable=True),
        sa.UniqueConstraint("user_id", "kind"),
    )
    op.create_table(
        "mfa_recovery_codes",
        id_column(),
        ref("user_id", "users"),
        sa.Column("code_hash", sa.String(64), nullable=False),
        at("created_at"),
        at("used_at", nullable=True),
    )
    op.create_index("ix_mfa_recovery_codes_user_id", "mfa_recovery_codes", ["user_id"])
    op.create_table(
        "mfa_challenges",
        id_column(),
        ref("user_id", "users"),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("amr", JSON, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        at("created_at"),
        at("expires_at"),
        at("spent_at", nullable=True),
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])
    op.add_column("refresh_tokens", sa.Column("amr", JSON))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "amr")
    for table in ("mfa_challenges", "mfa_recovery_codes", "mfa_factors"):
        op.drop_table(table)
