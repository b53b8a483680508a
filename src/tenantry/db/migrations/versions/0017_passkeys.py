"""Passkeys (WebAuthn credentials and their one-time challenges); the ``amr`` of browser sessions, authorization
codes and client grants (so that tokens of the OpenID provider say how the user signed in).

Revision ID: 0017
Revises: 0015, and 0003 and 0011 (whose tables get ``amr``)
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, at, id_column, ref

revision: str = "0017"
down_revision: str | Sequence[str] | None = ("0003", "0011", "0015")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AMR_TABLES = ("browser_sessions", "oauth_authorization_codes", "oauth_grants")


def upgrade() -> None:
    op.create_table(
        "webauthn_credentials",
        id_column(),
        ref("user_id", "users"),
        sa.Column("credential_id", sa.String(1400), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("transports", JSON, nullable=False),
        at("created_at"),
        at("last_used_at", nullable=True),
    )
    op.create_index("ix_webauthn_credentials_user_id", "webauthn_credentials", ["user_id"])
    op.create_table(
        "webauthn_challenges",
        id_column(),
        sa.Column("challenge_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        ref("user_id", "users", nullable=True),
        ref("mfa_challenge_id", "mfa_challenges", nullable=True),
        at("created_at"),
        at("expires_at"),
        at("spent_at", nullable=True),
    )
    for table in _AMR_TABLES:
        op.add_column(table, sa.Column("amr", JSON))


def downgrade() -> None:
    for table in _AMR_TABLES:
        op.drop_column(table, "amr")
    op.drop_table("webauthn_challenges")
    op.drop_table("webauthn_credentials")
