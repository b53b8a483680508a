"""The column shapes the Alembic revisions share: ids, foreign keys to ids, timestamps, JSON documents.

Each helper builds exactly the column a revision spelled out before it existed, so applied revisions keep
their DDL. A revision may still spell a column out when it differs (another length, no ``ondelete``).
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LIVE = sa.text("status != 'deleted'")


def id_column() -> sa.Column[str]:
    return sa.Column("id", sa.String(24), primary_key=True)


def at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def ref(
    name: str, table: str, *, nullable: bool = False, ondelete: str = "CASCADE", primary_key: bool = False
) -> sa.Column[str]:
    """A 24-character id column referencing ``table.id``."""
    return sa.Column(
        name,
        sa.String(24),
        sa.ForeignKey(f"{table}.id", ondelete=ondelete),
        nullable=nullable,
        primary_key=primary_key,
    )
