"""A search filter as core understands it: attributes already resolved, values already read.

A surface parses its own filter language, resolves each attribute it names against its schemas and
reads each value as that attribute's type, then hands core this tree (SCIM does so in
``scim.filters``). ``filters.where`` compiles it to SQL; nothing here knows a protocol library.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

AttributeType = Literal["string", "boolean", "integer", "decimal", "dateTime", "binary", "reference", "complex"]
"""The data type of an attribute (SCIM's, RFC 7643 §2.3)."""

Value = str | bool | int | float | datetime | bytes | None
"""A compared value, already of the attribute's type (a dateTime is a ``datetime``); None is "null"."""


class Operator(StrEnum):
    eq = "eq"
    ne = "ne"
    co = "co"
    sw = "sw"
    ew = "ew"
    gt = "gt"
    ge = "ge"
    lt = "lt"
    le = "le"


@dataclass(frozen=True)
class AttributeRef:
    """An attribute of a resource's schema, or a sub-attribute of one, named as the schema spells it."""

    schema: str
    """The URN of the schema declaring the attribute (the resource's own, or an extension's)."""
    attribute: str
    sub_attribute: str | None
    multivalued: bool
    """Whether ``attribute`` (not the sub-attribute) holds several values."""
    case_exact: bool
    """Whether the compared attribute (the sub-attribute when there is one) is case-sensitive."""
    type: AttributeType
    """The type of the compared attribute (the sub-attribute when there is one)."""

    @property
    def urn(self) -> str:
        """The fully qualified name, e.g. ``urn:ietf:params:scim:schemas:core:2.0:User:emails.value``."""
        name = f"{self.attribute}.{self.sub_attribute}" if self.sub_attribute else self.attribute
        return f"{self.schema}:{name}" if self.schema else name


@dataclass(frozen=True)
class Compare:
    attribute: AttributeRef
    op: Operator
    value: Value


@dataclass(frozen=True)
class Present:
    attribute: AttributeRef


@dataclass(frozen=True)
class And:
    terms: tuple["Filter", ...]


@dataclass(frozen=True)
class Or:
    terms: tuple["Filter", ...]


@dataclass(frozen=True)
class Not:
    term: "Filter"


@dataclass(frozen=True)
class ValueSelection:
    """Some value of the multi-valued ``attribute`` satisfies ``condition``, whose attributes are
    sub-attributes of ``attribute`` (``emails[type eq "work" and value co "@example.org"]``)."""

    attribute: AttributeRef
    condition: "Filter"


Filter = Compare | Present | And | Or | Not | ValueSelection
