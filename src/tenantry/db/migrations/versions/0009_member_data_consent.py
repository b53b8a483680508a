"""Per-organization member data and consent: ``attributes`` move from the account to each membership, and
a membership can wait for its account's consent.

What an organization stores about a member is its own: each membership gets a copy of the account's
``attributes`` (the value every organization saw until now), and the account's column goes. A membership
with ``consent_pending`` was asked for by an organization that attached an existing account; it grants
nothing until the account's owner accepts. Plain ADD/DROP COLUMN (SQLite 3.35+), no batch rebuild of
``users`` (its search triggers and expression index would need recreating, see 0007).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.db.migrations.columns import JSON

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("memberships", sa.Column("attributes", JSON, nullable=False, server_default=sa.text("'{}'")))
    op.add_column("memberships", sa.Column("consent_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE memberships SET attributes = (SELECT users.attributes FROM users WHERE users.id = memberships.user_id)"
    )
    op.drop_column("users", "attributes")


def downgrade() -> None:
    op.add_column("users", sa.Column("attributes", JSON, nullable=False, server_default=sa.text("'{}'")))
    op.execute(
        "UPDATE users SET attributes = COALESCE((SELECT memberships.attributes FROM memberships "
        "WHERE memberships.user_id = users.id ORDER BY memberships.created_at LIMIT 1), '{}')"
    )
    op.drop_column("memberships", "consent_pending")
    op.drop_column("memberships", "attributes")
