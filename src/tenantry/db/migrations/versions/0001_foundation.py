"""Foundation: organizations, users, memberships, roles, API keys, refresh tokens, signing keys, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON, LIVE, at, id_column, ref

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BUILTIN_ROLES = [
    ("000000000000000000000001", "owner", "Everything, including deleting the organization"),
    ("000000000000000000000002", "admin", "Manages users, roles and keys"),
    ("000000000000000000000003", "member", "Sees the organization and its users"),
    ("000000000000000000000004", "supervisor", "Manages users within their grants"),
    ("000000000000000000000005", "editor", "Works within their grants"),
    ("000000000000000000000006", "viewer", "Reads within their grants"),
]


def upgrade() -> None:
    op.create_table(
        "organizations",
        id_column(),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        at("deleted_at", nullable=True),
        at("created_at"),
        at("updated_at"),
    )
    op.create_index(
        "uq_organizations_slug_live", "organizations", ["slug"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
    )

    op.create_table(
        "users",
        id_column(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=False),
        sa.Column("last_name", sa.String(200), nullable=False),
        sa.Column("locale", sa.String(35)),
        sa.Column("avatar_url", sa.String(2048)),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("password_change_required", sa.Boolean(), nullable=False),
        sa.Column("platform_admin", sa.Boolean(), nullable=False),
        at("last_login_at", nullable=True),
        at("tokens_valid_after", nullable=True),
        at("deleted_at", nullable=True),
        at("created_at"),
        at("updated_at"),
    )
    op.create_index(
        "uq_users_email_live",
        "users",
        [sa.text("lower(email)")],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )

    op.create_table(
        "roles",
        id_column(),
        ref("org_id", "organizations", nullable=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("permissions", JSON, nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        at("created_at"),
        at("updated_at"),
        sa.UniqueConstraint("org_id", "name"),
    )

    op.create_table(
        "memberships",
        id_column(),
        ref("org_id", "organizations"),
        ref("user_id", "users"),
        sa.Column("status", sa.String(16), nullable=False),
        at("created_at"),
        at("updated_at"),
        sa.UniqueConstraint("org_id", "user_id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])

    op.create_table(
        "membership_roles",
        ref("membership_id", "memberships", primary_key=True),
        ref("role_id", "roles", ondelete="RESTRICT", primary_key=True),
    )
    op.create_index("ix_membership_roles_role_id", "membership_roles", ["role_id"])

    op.create_table(
        "api_keys",
        id_column(),
        ref("org_id", "organizations"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lookup", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(24)),
        at("created_at"),
        at("revoked_at", nullable=True),
    )
    op.create_index("ix_api_keys_org_id", "api_keys", ["org_id"])

    op.create_table(
        "api_key_roles",
        ref("api_key_id", "api_keys", primary_key=True),
        ref("role_id", "roles", ondelete="RESTRICT", primary_key=True),
    )
    op.create_index("ix_api_key_roles_role_id", "api_key_roles", ["role_id"])

    op.create_table(
        "refresh_tokens",
        id_column(),
        ref("user_id", "users"),
        sa.Column("family_id", sa.String(24), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        at("created_at"),
        at("expires_at"),
        at("used_at", nullable=True),
        at("revoked_at", nullable=True),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])

    op.create_table(
        "signing_keys",
        id_column(),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", JSON, nullable=False),
        at("created_at"),
        at("retired_at", nullable=True),
    )

    op.create_table(
        "audit_events",
        id_column(),
        sa.Column("org_id", sa.String(24)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor_user_id", sa.String(24)),
        sa.Column("actor_api_key_id", sa.String(24)),
        sa.Column("impersonator_id", sa.String(24)),
        sa.Column("partner_org_id", sa.String(24)),
        sa.Column("target_type", sa.String(32)),
        sa.Column("target_id", sa.String(24)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("details", JSON, nullable=False),
        at("created_at"),
    )
    op.create_index("ix_audit_events_org_id_id", "audit_events", ["org_id", "id"])

    roles = sa.table(
        "roles",
        sa.column("id", sa.String),
        sa.column("org_id", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("permissions", JSON),
        sa.column("builtin", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        roles,
        [
            {
                "id": role_id,
                "org_id": None,
                "name": name,
                "description": description,
                "permissions": [],  # built-in permissions live in code: tenantry.core.roles.permissions
                "builtin": True,
                "created_at": now,
                "updated_at": now,
            }
            for role_id, name, description in BUILTIN_ROLES
        ],
    )


def downgrade() -> None:
    for table in (
        "audit_events",
        "signing_keys",
        "refresh_tokens",
        "api_key_roles",
        "api_keys",
        "membership_roles",
        "memberships",
        "roles",
        "users",
        "organizations",
    ):
        op.drop_table(table)
