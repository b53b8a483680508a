"""The organization a sign-in named, kept on its second step's challenge, so that the sign-in is recorded
there once the second factor is answered.

Revision ID: 0019
Revises: 0017 (after the MFA tables of 0015 and the passkeys)
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mfa_challenges", sa.Column("org_id", sa.String(24), nullable=True))


def downgrade() -> None:
    op.drop_column("mfa_challenges", "org_id")
