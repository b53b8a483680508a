"""Users: the canonical email key (``core.users.emailkey``), unique among live accounts, used by every lookup.

Replaces the unique ``lower(email)`` index, which folded ASCII only on SQLite and knew nothing of Unicode
normalization or IDNA. Plain ADD COLUMN (no batch rebuild of ``users``, which would drop 0007's triggers).

Existing accounts whose emails share a key (two spellings that were allowed before) are reported, not
merged: the oldest live account (lowest id) keeps the key; each later one gets the placeholder key
``conflict:<id>`` (no ``@``, so no lookup ever finds it) and a warning naming both ids is logged. Resolve each
by changing that account's email or deleting it (docs/api.md, "One identity per email").

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.core.users.emailkey import email_key
from tenantry.db.migrations.columns import LIVE

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
log = logging.getLogger("tenantry.migrations")


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, email, status FROM users ORDER BY id")).all()
    owner: dict[str, str] = {}
    keys: list[dict[str, str]] = []
    for user_id, email, status in rows:
        key = email_key(email)
        if status != "deleted":
            kept = owner.setdefault(key, user_id)
            if kept != user_id:
                log.warning("email key collision: account %s keeps %r; account %s set aside", kept, key, user_id)
                key = f"conflict:{user_id}"
        keys.append({"id": user_id, "key": key})
    update = sa.text("UPDATE users SET email_key = :key WHERE id = :id")
    for start in range(0, len(keys), _BATCH):
        connection.execute(update, keys[start : start + _BATCH])


def upgrade() -> None:
    op.add_column("users", sa.Column("email_key", sa.String(1024), nullable=False, server_default=""))
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("users", "email_key", server_default=None)
    op.drop_index("uq_users_email_live", table_name="users")
    op.create_index(
        "uq_users_email_key_live", "users", ["email_key"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
    )


def downgrade() -> None:
    op.drop_index("uq_users_email_key_live", table_name="users")
    op.drop_column("users", "email_key")
    op.create_index(
        "uq_users_email_live", "users", [sa.text("lower(email)")], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
    )
