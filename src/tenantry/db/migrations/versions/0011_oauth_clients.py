"""OAuth 2.0 / OpenID Connect clients, their secrets, consents, authorization codes and client grants.

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, at, id_column, ref

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        id_column(),
        ref("org_id", "organizations", nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("redirect_uris", JSON, nullable=False),
        sa.Column("post_logout_redirect_uris", JSON, nullable=False),
        sa.Column("allowed_origins", JSON, nullable=False),
        sa.Column("grant_types", JSON, nullable=False),
        sa.Column("created_by", sa.String(24)),
        at("created_at"),
        at("updated_at"),
    )
    op.create_index("ix_oauth_clients_org_id", "oauth_clients", ["org_id"])
    op.create_table(
        "oauth_client_secrets",
        id_column(),
        ref("client_id", "oauth_clients"),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        at("created_at"),
        at("expires_at", nullable=True),
    )
    op.create_index("ix_oauth_client_secrets_client_id", "oauth_client_secrets", ["client_id"])
    op.create_table(
        "oauth_consents",
        id_column(),
        ref("client_id", "oauth_clients"),
        ref("user_id", "users"),
        sa.Column("scope", sa.Text(), nullable=False),
        at("created_at"),
        sa.UniqueConstraint("client_id", "user_id"),
    )
    op.create_index("ix_oauth_consents_user_id", "oauth_consents", ["user_id"])
    op.create_table(
        "oauth_authorization_codes",
        id_column(),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        ref("client_id", "oauth_clients"),
        ref("user_id", "users"),
        ref("org_id", "organizations", nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.Text()),
        sa.Column("code_challenge", sa.String(128)),
        sa.Column("browser_session_id", sa.String(24)),
        at("auth_time"),
        at("expires_at"),
        at("used_at", nullable=True),
        sa.Column("family_id", sa.String(24)),
    )
    op.create_index("ix_oauth_authorization_codes_client_id", "oauth_authorization_codes", ["client_id"])
    op.create_index("ix_oauth_authorization_codes_user_id", "oauth_authorization_codes", ["user_id"])
    op.create_table(
        "oauth_grants",
        sa.Column("family_id", sa.String(24), primary_key=True),
        ref("client_id", "oauth_clients"),
        ref("user_id", "users"),
        ref("org_id", "organizations", nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        at("auth_time"),
        sa.Column("browser_session_id", sa.String(24)),
        at("created_at"),
    )
    for column in ("client_id", "user_id", "browser_session_id"):
        op.create_index(f"ix_oauth_grants_{column}", "oauth_grants", [column])


def downgrade() -> None:
    for table in ("oauth_grants", "oauth_authorization_codes", "oauth_consents", "oauth_client_secrets"):
        op.drop_table(table)
    op.drop_table("oauth_clients")
