"""Reading inside JSON documents in SQL, the same way on SQLite (JSON1) and PostgreSQL (JSONB).

A path is a list of object keys. Values come out as text (strings as they are, booleans as the
dialect writes them, so booleans are tested with ``is_true``/``is_false``). Arrays of objects are
opened with ``elements``, for EXISTS subqueries and for the first-or-primary value a sort needs.
"""

from typing import Any

from sqlalchemy import ColumnElement, FromClause, case, column, func, literal_column, or_
from sqlalchemy.dialects.postgresql import JSONB

Path = list[str]


class JsonSql:
    """Base: the expressions both dialects share once ``text`` and ``kind`` exist."""

    def text(self, document: Any, path: Path) -> ColumnElement[Any]:
        raise NotImplementedError

    def kind(self, document: Any, path: Path) -> ColumnElement[Any]:
        """The JSON type at ``path``: 'string', 'boolean', 'array', 'object', 'number', 'null' or NULL when absent."""
        raise NotImplementedError

    def elements(self, document: Any, path: Path) -> tuple[FromClause, Any]:
        """The array at ``path`` as rows, and the expression standing for one element's document."""
        raise NotImplementedError

    def is_true(self, document: Any, path: Path) -> ColumnElement[bool]:
        return self.text(document, path) == "true"

    def is_false(self, document: Any, path: Path) -> ColumnElement[bool]:
        return self.text(document, path) == "false"

    def has_value(self, document: Any, path: Path) -> ColumnElement[bool]:
        """Present in SCIM's sense: not absent, not null, not an empty string, array or object."""
        kind = self.kind(document, path)
        text = self.text(document, path)
        return (
            kind.is_not(None) & (kind != "null") & or_(kind != "string", text != "") & (text != "[]") & (text != "{}")
        )


class SqliteJson(JsonSql):
    @staticmethod
    def _path(path: Path) -> str:
        return "$" + "".join(f'."{key}"' for key in path)

    def _raw(self, document: Any, path: Path) -> ColumnElement[Any]:
        return func.json_extract(document, self._path(path))

    def text(self, document: Any, path: Path) -> ColumnElement[Any]:
        kind = func.json_type(document, self._path(path))
        raw = self._raw(document, path)
        # json_extract gives 1/0 for booleans: spell them as PostgreSQL does.
        return case((kind == "true", "true"), (kind == "false", "false"), else_=raw)

    def kind(self, document: Any, path: Path) -> ColumnElement[Any]:
        raw = func.json_type(document, self._path(path))
        return case(
            (raw == "text", "string"),
            (raw.in_(["true", "false"]), "boolean"),
            (raw.in_(["integer", "real"]), "number"),
            else_=raw,
        )

    def elements(self, document: Any, path: Path) -> tuple[FromClause, Any]:
        rows = func.json_each(document, self._path(path)).table_valued("value", "key").alias()
        return rows, rows.c.value


class PostgresJson(JsonSql):
    def _node(self, document: Any, path: Path) -> Any:
        node = document
        for key in path:
            node = node.op("->")(key)
        return node

    def text(self, document: Any, path: Path) -> ColumnElement[Any]:
        node = (
            document.op("#>>")(literal_column("'{}'"))
            if not path
            else self._node(document, path[:-1]).op("->>")(path[-1])
        )
        text: ColumnElement[Any] = node
        return text

    def kind(self, document: Any, path: Path) -> ColumnElement[Any]:
        return func.jsonb_typeof(self._node(document, path))

    def elements(self, document: Any, path: Path) -> tuple[FromClause, Any]:
        rows = func.jsonb_array_elements(self._node(document, path)).table_valued(column("value", JSONB)).alias()
        return rows, rows.c.value


def json_sql(dialect: str) -> JsonSql:
    return SqliteJson() if dialect == "sqlite" else PostgresJson()
