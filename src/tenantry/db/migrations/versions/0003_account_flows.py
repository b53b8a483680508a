"""Account flows: one-time tokens, the outbox, browser sessions of the hosted pages.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(24), primary_key=True)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "one_time_tokens",
        _id(),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(24), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("org_id", sa.String(24), sa.ForeignKey("organizations.id", ondelete="CASCADE")),
        sa.Column("email", sa.String(320)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("details", JSON, nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        _at("voided_at", nullable=True),
    )
    op.create_index("ix_one_time_tokens_user_id_purpose", "one_time_tokens", ["user_id", "purpose"])

    op.create_table(
        "outbox_messages",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("org_id", sa.String(24)),
        sa.Column("recipient", sa.String(320)),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("locked_until", nullable=True),
        sa.Column("last_error", sa.Text()),
        _at("created_at"),
        _at("sent_at", nullable=True),
    )
    op.create_index("ix_outbox_messages_status_next_attempt_at", "outbox_messages", ["status", "next_attempt_at"])

    op.create_table(
        "browser_sessions",
        _id(),
        sa.Column("user_id", sa.String(24), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _at("created_at"),
        _at("expires_at"),
        _at("revoked_at", nullable=True),
    )
    op.create_index("ix_browser_sessions_user_id", "browser_sessions", ["user_id"])


def downgrade() -> None:
    for table in ("browser_sessions", "outbox_messages", "one_time_tokens"):
        op.drop_table(table)
