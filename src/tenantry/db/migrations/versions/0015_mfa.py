"""Multi-factor authentication: factors (TOTP), recovery codes, sign-in challenges; ``amr`` of refresh tokens.

Revision ID: 0015
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(24), primary_key=True)


def _user() -> sa.Column[str]:
    return sa.Column("user_id", sa.String(24), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "mfa_factors",
        _id(),
        _user(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("last_used_step", sa.Integer()),
        _at("created_at"),
        _at("confirmed_at", nullable=True),
        sa.UniqueConstraint("user_id", "kind"),
    )
    op.create_table(
        "mfa_recovery_codes",
        _id(),
        _user(),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _at("created_at"),
        _at("used_at", nullable=True),
    )
    op.create_index("ix_mfa_recovery_codes_user_id", "mfa_recovery_codes", ["user_id"])
    op.create_table(
        "mfa_challenges",
        _id(),
        _user(),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("amr", JSON, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("spent_at", nullable=True),
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])
    op.add_column("refresh_tokens", sa.Column("amr", JSON))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "amr")
    for table in ("mfa_challenges", "mfa_recovery_codes", "mfa_factors"):
        op.drop_table(table)
