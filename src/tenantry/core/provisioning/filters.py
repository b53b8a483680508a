"""Search filters and sort orders as SQL (RFC 7644 §3.4.2.2 and §3.4.2.3), evaluated by the database.

The filter arrives as core's tree (``filter_tree``): each attribute already resolved to the one the
schema declares, with its type and case sensitivity, and each value already read as that type. An
``Attributes`` map says where that attribute lives (``cells``); ``where`` turns the tree into one WHERE
clause.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from tenantry.core.provisioning.cells import Cell, Element, Plural
from tenantry.core.provisioning.filter_tree import And, AttributeRef, Compare, Filter, Not, Or, Present, ValueSelection
from tenantry.errors import InvalidFilter


class Attributes:
    """Where a resource type's attributes live. Subclasses map (schema, attribute, sub-attribute) names."""

    def cell(self, attribute: AttributeRef) -> Cell:
        raise NotImplementedError

    def plural(self, attribute: AttributeRef) -> Plural:
        raise NotImplementedError


def unsupported(attribute: AttributeRef, what: str = "filtered on") -> InvalidFilter:
    return InvalidFilter(f"'{attribute.urn}' cannot be {what} here")


def nested_selection() -> InvalidFilter:
    return InvalidFilter("value selections cannot be nested")


def _compile(node: Filter, attributes: Attributes) -> ColumnElement[bool]:
    match node:
        case And(terms):
            return and_(*(_compile(term, attributes) for term in terms))
        case Or(terms):
            return or_(*(_compile(term, attributes) for term in terms))
        case Not(term):
            return not_(_compile(term, attributes))
        case Present(attribute) if attribute.multivalued:
            plural = attributes.plural(attribute)
            if attribute.sub_attribute is None:
                return plural.any()
            sub = attribute.sub_attribute
            return plural.any(lambda element: element(sub, attribute.case_exact).present())
        case Present(attribute):
            return attributes.cell(attribute).present()
        case Compare(attribute, op, value) if attribute.multivalued:
            sub_attribute = attribute.sub_attribute
            if sub_attribute is None:  # a multi-valued attribute of simple values: none in our schemas
                raise unsupported(attribute)
            return attributes.plural(attribute).any(
                lambda element: element(sub_attribute, attribute.case_exact).compare(op, value)
            )
        case Compare(attribute, op, value):
            return attributes.cell(attribute).compare(op, value)
        case ValueSelection(attribute, condition):
            plural = attributes.plural(attribute)
            return plural.any(lambda element: _compile_element(condition, element))
    raise TypeError(f"not a filter: {node!r}")


def _compile_element(node: Filter, element: Element) -> ColumnElement[bool]:
    """The condition between brackets: its attributes are sub-attributes of one element."""
    match node:
        case And(terms):
            return and_(*(_compile_element(term, element) for term in terms))
        case Or(terms):
            return or_(*(_compile_element(term, element) for term in terms))
        case Not(term):
            return not_(_compile_element(term, element))
        case Present(attribute):
            return element(attribute.sub_attribute or "", attribute.case_exact).present()
        case Compare(attribute, op, value):
            return element(attribute.sub_attribute or "", attribute.case_exact).compare(op, value)
        case ValueSelection():
            raise nested_selection()
    raise TypeError(f"not a filter: {node!r}")


def where(condition: Filter, attributes: Attributes) -> ColumnElement[bool]:
    """The WHERE clause for ``condition``; InvalidFilter for what cannot be filtered here."""
    return _compile(condition, attributes)


def sort_key(attribute: AttributeRef, attributes: Attributes) -> Any:
    """What ORDER BY uses for ``sortBy`` (the primary or first value of a multi-valued attribute)."""
    if attribute.multivalued:
        plural = attributes.plural(attribute)
        sub = attribute.sub_attribute
        if plural.sort_value is None or sub is None:
            raise unsupported(attribute, "sorted on")
        return plural.sort_value(sub, attribute.case_exact)
    return attributes.cell(attribute).sort_key()
