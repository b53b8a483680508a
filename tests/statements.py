"""What a block of a test sent to the database: the statements, in order, as the driver received them; and which of
them bind a value that a partial index's WHERE compares (``db.base.in_text``: SQLite prepares such a statement
again every time it runs), which ``conftest`` watches for in every statement the suite sends."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tenantry.core.models import Base
from tenantry.db.engine import Database


@contextmanager
def sent_statements(database: Database) -> Iterator[list[str]]:
    """The statements ``database`` sends while the block runs (SQLite's BEGIN included), appended as they go."""
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _partial_index_terms() -> set[tuple[str, str]]:
    """The (column, operator) pairs the partial indexes' WHERE compares with a value: ``status !=`` (accounts and
    organizations). SQLite checks a statement's term against them only where the operator is the same."""
    terms = set()
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"].get("where")
            if where is not None:
                terms.update(re.findall(r"(\w+)\s*(!=|<>|=|<=|>=|<|>)\s*'", str(where)))
    return terms


PARTIAL_INDEX_TERMS = frozenset(_partial_index_terms())
BOUND_COMPARISON = re.compile(
    "|".join(rf"\.{column}\s*{re.escape(operator)}\s*(?:\?|\$\d+)" for column, operator in sorted(PARTIAL_INDEX_TERMS))
)
"""Such a term with a parameter in place of the value (SQLite's ``?``, asyncpg's ``$1``)."""
