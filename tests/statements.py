"""What a block of a test sent to the database: the statements, in order, as the driver received them."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

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
