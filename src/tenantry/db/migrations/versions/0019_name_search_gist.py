"""PostgreSQL: the trigram indexes on first and last names become GiST; the email's stays GIN.

Measured at 1M users (bench/README.md, "Search at 1M"): a selective term such as ``u0059294`` is in no name,
yet each GIN name index walked the posting lists of the term's trigrams to find that out (about a third of the
query each); GiST answers "no name holds these trigrams" from its signatures at once. The email's GIN index
stays: GiST on the email made the selective search several times slower. Same names, so nothing else changes.
SQLite: nothing (its FTS5 table serves all three columns).

Revision ID: 0019
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("first_name", "last_name")


def _rebuild(method: str, operators: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_users_{name}_trgm")
        op.execute(f"CREATE INDEX ix_users_{name}_trgm ON users USING {method} (lower({name}) {operators})")


def upgrade() -> None:
    _rebuild("gist", "gist_trgm_ops")


def downgrade() -> None:
    _rebuild("gin", "gin_trgm_ops")
