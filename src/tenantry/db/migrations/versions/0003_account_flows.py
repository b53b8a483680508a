"""Account flows: one-time tokens, the outbox, browser sessions of the hosted pages.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, at, id_column, ref

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "one_time_tokens",
        id_column(),
        sa.Column("purpose", sa.String(32), nullable=False),
        ref("user_id", "users"),
        ref("org_id", "organizations", nullable=True),
        sa.Column("email", sa.String(320)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("details", JSON, nullable=False),
        at("created_at"),
        at("expires_at"),
        at("used_at", nullable=True),
        at("voided_at", nullable=True),
    )
    op.create_index("ix_one_time_tokens_user_id_purpose", "one_time_tokens", ["user_id", "purpose"])

    op.create_table(
        "outbox_messages",
        id_column(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("org_id", sa.String(24)),
        sa.Column("recipient", sa.String(320)),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        at("next_attempt_at"),
        at("locked_until", nullable=True),
        sa.Column("last_error", sa.Text()),
        at("created_at"),
        at("sent_at", nullable=True),
    )
    op.create_index("ix_outbox_messages_status_next_attempt_at", "outbox_messages", ["status", "next_attempt_at"])

    op.create_table(
        "browser_sessions",
        id_column(),
        ref("user_id", "users"),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        at("created_at"),
        at("expires_at"),
        at("revoked_at", nullable=True),
    )
    op.create_index("ix_browser_sessions_user_id", "browser_sessions", ["user_id"])


def downgrade() -> None:
    for table in ("browser_sessions", "outbox_messages", "one_time_tokens"):
        op.drop_table(table)
