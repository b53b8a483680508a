"""PostgreSQL: the planner's statistics on ``lower(email)`` keep a 1,000-entry histogram (the default is 100).

A search's ``lower(email) LIKE '%term%'`` is estimated by matching the pattern against that histogram: a term
that one entry of 100 holds is estimated to match 1% of the accounts, one that none holds 0.01%. A term held by a
single account, but also by a histogram entry, then looks common, and PostgreSQL walks ``pk_users`` in id order
to fill a page of 51, filtering out every account on the way. On the FULL bench seed (1M accounts, an
organization of 100,000), 11 of the 12 such terms of that organization walked, the slowest for 981 ms; of the
bench's 2,000 selective terms, ``u0008209`` took 914 ms where the median took 1.07 (EXPLAIN ANALYZE, plan and
execution). One term in N/100 is held by an entry, so this is 1 in 10,000 terms at 1M accounts and 1 in 1,000 at
100,000. With 1,000 entries every such term (107 of them) was a trigram bitmap scan, the slowest 1.6 ms, and of
the 2,000 terms the slowest took 3.4 ms. The cost is in planning, which matches the pattern against ten times
as many entries: the 2,000 terms' median went from 1.07 to 1.39 ms, p99 from 1.51 to 2.33. With 20,000 accounts
(the quick seed) no term walked at either size. The upgrade analyzes ``users`` so that the histogram is there at
once. SQLite: nothing to do (its FTS5 index has no estimate to mislead).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTOGRAM_ENTRIES = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX ix_users_email_trgm ALTER COLUMN 1 SET STATISTICS {HISTOGRAM_ENTRIES}")
    op.execute("ANALYZE users")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_users_email_trgm ALTER COLUMN 1 SET STATISTICS -1")
