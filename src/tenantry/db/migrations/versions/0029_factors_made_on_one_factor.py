"""A second factor records whether the session that made it had proven only one factor
(``mfa_factors.enrolled_on_one_factor``, ``webauthn_credentials.enrolled_on_one_factor``): whoever knew the
password alone may have made it, so a password set through a mailed link (a reset, an activation) removes it.

Backfill: every existing factor is kept (False). Nothing stored tells which session made an existing factor, and
removing their owners' factors at their next reset would take away what guards their accounts today; a factor
an attacker made before this release is removed by an administrator's reset of the second factors, as before.

Revision ID: 0029
Revises: 0028 (the head)
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("mfa_factors", "webauthn_credentials")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table, sa.Column("enrolled_on_one_factor", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as altered:
            altered.drop_column("enrolled_on_one_factor")
