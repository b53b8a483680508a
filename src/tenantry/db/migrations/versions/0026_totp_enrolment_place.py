"""An authenticator app not confirmed yet names the session that began setting it up
(``mfa_factors.started_in``): only that session is shown its secret again and confirms it.

Apps waiting for confirmation when this runs name none, so no session confirms them: setting one up again
draws a new secret (a page shown again does so by itself).

Revision ID: 0026
Revises: 0025 (the head of the revisions touching the second factors' tables: 0015, 0017, 0019, 0025)
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mfa_factors") as table:
        table.add_column(sa.Column("started_in", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mfa_factors") as table:
        table.drop_column("started_in")
