"""Where each SCIM attribute lives in SQL, and how a comparison or a presence test reads there.

A ``Cell`` is one value per row (a column, or a key of a JSON document), NULL when absent. A
``Plural`` is a multi-valued attribute: a JSON array of objects, or rows of another table; filters
test it with EXISTS over its elements, each element offering cells for its sub-attributes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, not_, or_, select, true

from tenantry.core.provisioning.filter_tree import Operator
from tenantry.core.provisioning.json_sql import JsonSql
from tenantry.core.users.emailkey import email_key, key_fragment
from tenantry.core.users.models import User
from tenantry.errors import InvalidFilter

Kind = Literal["string", "boolean", "json_boolean", "datetime", "presence"]
"""presence: a complex attribute that can only be tested with ``pr`` (the expression is the test)."""
_LIKE_ESCAPE = "\\"


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _zoned(value: Any) -> Any:
    """A dateTime without a time zone (RFC 7643 section 2.3.5 allows one, and a bare date) read as UTC, the zone
    every stored time is in; a naive value cannot be compared with them."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class Cell:
    expression: Any
    kind: Kind = "string"
    case_exact: bool = False

    def _text(self, value: str) -> tuple[Any, str]:
        if self.case_exact:
            return self.expression, value
        return func.lower(self.expression), value.lower()

    def present(self) -> ColumnElement[bool]:
        if self.kind == "presence":
            presence: ColumnElement[bool] = self.expression
            return presence
        if self.kind == "boolean":
            return true()
        if self.kind == "string":
            return and_(self.expression.is_not(None), self.expression != "")
        known: ColumnElement[bool] = self.expression.is_not(None)
        return known

    def sort_key(self) -> Any:
        return func.lower(self.expression) if self.kind == "string" and not self.case_exact else self.expression

    def compare(self, op: Operator, value: Any) -> ColumnElement[bool]:
        """Two-valued (never NULL), so NOT and OR keep SCIM's meaning for absent values."""
        if self.kind == "presence":
            raise InvalidFilter("a complex attribute can only be compared through a sub-attribute")
        if value is None:
            absent = not_(self.present())
            return absent if op == Operator.eq else not_(absent)
        if self.kind == "boolean":
            matches: ColumnElement[bool] = self.expression if value else not_(self.expression)
            return matches if op == Operator.eq else not_(matches)
        if self.kind == "json_boolean":
            matches = and_(self.expression.is_not(None), self.expression == ("true" if value else "false"))
            return matches if op == Operator.eq else not_(matches)
        if self.kind == "string":
            expression, operand = self._text(str(value))
        elif op in (Operator.co, Operator.sw, Operator.ew):
            raise InvalidFilter(f"operator '{op.value}' applies to strings only")
        else:
            expression, operand = self.expression, _zoned(value)
        known = expression.is_not(None)
        match op:
            case Operator.eq:
                return and_(known, expression == operand)
            case Operator.ne:
                return or_(not_(known), expression != operand)
            case Operator.co:
                return and_(known, expression.like(f"%{_escape_like(operand)}%", escape=_LIKE_ESCAPE))
            case Operator.sw:
                return and_(known, expression.like(f"{_escape_like(operand)}%", escape=_LIKE_ESCAPE))
            case Operator.ew:
                return and_(known, expression.like(f"%{_escape_like(operand)}", escape=_LIKE_ESCAPE))
            case Operator.gt:
                return and_(known, expression > operand)
            case Operator.ge:
                return and_(known, expression >= operand)
            case Operator.lt:
                return and_(known, expression < operand)
            case Operator.le:
                return and_(known, expression <= operand)
        raise InvalidFilter(f"unsupported operator {op!r}")


_PARTIAL = (Operator.co, Operator.sw, Operator.ew)


@dataclass(frozen=True)
class IdentityCell(Cell):
    """An email compared as an identity: ``eq``/``ne`` match any spelling of the account's email (its key), and
    ``co``/``sw``/``ew`` match its key too (folded as on both databases: SQLite's ``lower()`` folds ASCII only, so
    ``sw "är"`` missed ``Ärger@…`` there).

    ``own_email`` None: the cell is the account's email itself (``userName``), compared by key alone. Otherwise
    the cell is a value of ``emails``: it also matches as typed, and by key where it holds the account's email.
    """

    own_email: Any = None

    def _own(self, by_key: ColumnElement[bool]) -> ColumnElement[bool]:
        """``by_key`` where the cell holds the account's own email (``emails``); ``userName`` always does."""
        if self.own_email is None:
            return by_key
        own = and_(self.expression.is_not(None), func.lower(self.expression) == func.lower(self.own_email))
        return and_(own, by_key)

    def compare(self, op: Operator, value: Any) -> ColumnElement[bool]:
        if value is not None and op in _PARTIAL:
            by_key = Cell(User.email_key, case_exact=True).compare(op, key_fragment(str(value)))
            return or_(super().compare(op, value), self._own(by_key))
        if value is None or op not in (Operator.eq, Operator.ne):
            return super().compare(op, value)
        same: ColumnElement[bool] = self._own(User.email_key == email_key(str(value)))
        if self.own_email is not None:
            same = or_(super().compare(Operator.eq, value), same)
        return same if op == Operator.eq else not_(same)


Element = Callable[[str, bool], Cell]
"""An element of a plural attribute: (sub-attribute name, case exact) -> its cell."""


@dataclass(frozen=True)
class Plural:
    """A multi-valued attribute: ``rows`` are its elements for the current outer row."""

    rows: Callable[[], tuple[Select[Any], Element]]
    sort_value: Callable[[str, bool], Any] | None = None

    def any(self, predicate: Callable[[Element], ColumnElement[bool]] | None = None) -> ColumnElement[bool]:
        query, element = self.rows()
        if predicate is not None:
            query = query.where(predicate(element))
        return exists(query)


def json_cell(json: JsonSql, document: Any, path: list[str], kind: Kind, case_exact: bool) -> Cell:
    if kind == "boolean":
        return Cell(json.text(document, path), "json_boolean", True)
    return Cell(json.text(document, path), kind, case_exact)


def json_plural(json: JsonSql, document: Any, path: list[str], kinds: dict[str, Kind]) -> Plural:
    """A JSON array of objects; ``kinds`` says which sub-attributes are booleans."""

    def rows() -> tuple[Select[Any], Element]:
        table, element_document = json.elements(document, path)

        def element(sub: str, case_exact: bool) -> Cell:
            return json_cell(json, element_document, [sub], kinds.get(sub, "string"), case_exact)

        return select(literal(1)).select_from(table), element

    def sort_value(sub: str, case_exact: bool) -> Any:
        table, element_document = json.elements(document, path)
        cell = json_cell(json, element_document, [sub], kinds.get(sub, "string"), case_exact)
        first = select(cell.sort_key()).select_from(table)
        return first.order_by(json.is_true(element_document, ["primary"]).desc()).limit(1).scalar_subquery()

    return Plural(rows, sort_value)
