"""An audit event names the application whose access token the user acted with (``audit_events.actor_client_id``,
the OAuth client's id): a change an application made with a user's token was recorded as the user's own.

Events recorded before this ran name none, as do those of the user's own credential (Tenantry's token endpoint,
the hosted pages, the console), of API keys and of impersonations. A nullable column without a default: no row is
rewritten (PostgreSQL changes the catalog only; SQLite adds it in place, ``ALTER TABLE ... ADD COLUMN``).

Revision ID: 0028
Revises: 0027 (the head; 0001 created ``audit_events``)
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as table:
        table.add_column(sa.Column("actor_client_id", sa.String(24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as table:
        table.drop_column("actor_client_id")
