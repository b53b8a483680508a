"""Accounts know whether their credentials were chosen by the proven owner of their address
(``users.credentials_proven``): an account another organization made for an address it does not own, with a
password it knows, must not become the address owner's account when a third organization invites it
(account pre-hijacking, issue 14).

Backfill: every existing account is unproven (False). Nothing stored tells who chose an existing account's
password (its creator, an administrator, an import, or the owner through a mailed link), and an account
wrongly marked proven is exactly the hole this closes; wrongly unproven costs its owner one step, once: the
next time it accepts an invitation into another organization, the mailed link asks for a new password.
Plain ADD COLUMN (no batch rebuild of ``users``, see 0007/0009).

Revision ID: 0021
Revises: 0009 (the last revision touching ``users``; following it adds no new head)
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("credentials_proven", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("users", "credentials_proven")
