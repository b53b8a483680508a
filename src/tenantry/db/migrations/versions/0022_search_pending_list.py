"""PostgreSQL: the trigram GIN indexes of 0007 keep a short pending list (256 kB instead of 4 MB).

GIN adds new rows to a pending list that is merged into the index only when it passes
``gin_pending_list_limit`` (or at VACUUM). Every search reads the whole list, and the planner counts it: with
~400 pending pages after 20,000 inserted users, a one-match search in an org of 5,000 left the trigram indexes
for a sequential scan of ``users`` (180 ms instead of 0.5). At 256 kB the list holds ~30 pages at most and
searches stay on the indexes; 10,000 inserts took 1.07 s instead of 0.7-1.05 s, where turning the list off
(``fastupdate = off``) took 5.6 s. The upgrade also merges what is pending now. SQLite: nothing to do.

Revision ID: 0022
Revises: 0021 (the last revision touching ``users``)
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = ("ix_users_email_trgm", "ix_users_first_name_trgm", "ix_users_last_name_trgm")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in _INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = 256)")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in _INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
