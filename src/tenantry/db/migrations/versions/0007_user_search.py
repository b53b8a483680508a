"""Indexes for partial, case-insensitive search of users by email and names.

PostgreSQL: pg_trgm GIN indexes on lower(email), lower(first_name), lower(last_name), which serve
``lower(col) LIKE '%term%'``. SQLite: an external-content FTS5 table with the trigram tokenizer over
the same columns, kept in step with ``users`` by triggers.

A later migration that makes SQLite rebuild the ``users`` table (batch "move and copy") drops these
triggers and renumbers rowids: it must recreate the triggers and run ``rebuild`` (``_SQLITE_UP``).

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE users_search USING fts5("
    "email, first_name, last_name, content='users', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_search(rowid, email, first_name, last_name) "
    "VALUES (new.rowid, new.email, new.first_name, new.last_name); END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, email, first_name, last_name) "
    "VALUES ('delete', old.rowid, old.email, old.first_name, old.last_name); END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF email, first_name, last_name ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, email, first_name, last_name) "
    "VALUES ('delete', old.rowid, old.email, old.first_name, old.last_name); "
    "INSERT INTO users_search(rowid, email, first_name, last_name) "
    "VALUES (new.rowid, new.email, new.first_name, new.last_name); END",
    "INSERT INTO users_search(users_search) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS users_search_insert",
    "DROP TRIGGER IF EXISTS users_search_delete",
    "DROP TRIGGER IF EXISTS users_search_update",
    "DROP TABLE IF EXISTS users_search",
]
_POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_users_email_trgm ON users USING gin (lower(email) gin_trgm_ops)",
    "CREATE INDEX ix_users_first_name_trgm ON users USING gin (lower(first_name) gin_trgm_ops)",
    "CREATE INDEX ix_users_last_name_trgm ON users USING gin (lower(last_name) gin_trgm_ops)",
]
_POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_users_email_trgm",
    "DROP INDEX IF EXISTS ix_users_first_name_trgm",
    "DROP INDEX IF EXISTS ix_users_last_name_trgm",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(_SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_UP)


def downgrade() -> None:
    _run(_SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_DOWN)
