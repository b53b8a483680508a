"""A token session started by token exchange (RFC 8693) names the session it was exchanged from
(``oauth_grants.parent_family_id``), so that ending that session ends it too.

Existing rows keep no parent (NULL): nothing stored says which session an earlier exchange came from.
Indexed: ending a session looks up the sessions exchanged from it.

Revision ID: 0025
Revises: 0019 (the head after 0017, the last revision touching ``oauth_grants``; following it adds no new head)
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("oauth_grants", sa.Column("parent_family_id", sa.String(24), nullable=True))
    op.create_index("ix_oauth_grants_parent_family_id", "oauth_grants", ["parent_family_id"])


def downgrade() -> None:
    op.drop_index("ix_oauth_grants_parent_family_id", "oauth_grants")
    op.drop_column("oauth_grants", "parent_family_id")
