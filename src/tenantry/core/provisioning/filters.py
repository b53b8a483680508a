"""SCIM filters and sort orders as SQL (RFC 7644 §3.4.2.2 and §3.4.2.3), evaluated by the database.

The filter arrives parsed and bound to our resource models (``scim2_models.ScimFilter``), so each
attribute path resolves to the attribute it names, with its type and case sensitivity. An ``Attributes``
map says where that attribute lives (``cells``); the visitor turns the tree into one WHERE clause.
"""

from typing import Any

from scim2_models import ScimFilter
from scim2_models.path import (
    AttributeBinding,
    AttrPath,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
    coerce_value,
)
from sqlalchemy import ColumnElement, and_, not_, or_

from tenantry.core.provisioning.cells import Cell, Element, Plural
from tenantry.errors import InvalidFilter


class Attributes:
    """Where a resource type's attributes live. Subclasses map (schema, attribute, sub-attribute) names."""

    def cell(self, binding: AttributeBinding) -> Cell:
        raise NotImplementedError

    def plural(self, binding: AttributeBinding) -> Plural:
        raise NotImplementedError


def scim_names(binding: AttributeBinding) -> tuple[str, str, str | None]:
    """(schema URN, attribute, sub-attribute) as the schema spells them."""
    schema = str(getattr(binding.model, "__schema__", "") or "")
    rest = binding.urn[len(schema) + 1 :] if schema and binding.urn.startswith(schema + ":") else binding.urn
    attribute, _, sub = rest.partition(".")
    return schema, attribute, sub or None


def unsupported(binding: AttributeBinding, what: str = "filtered on") -> InvalidFilter:
    return InvalidFilter(f"'{binding.urn}' cannot be {what} here")


class _Compiler(FilterVisitor[ColumnElement[bool]]):
    def __init__(self, scim_filter: ScimFilter[Any], attributes: Attributes) -> None:
        self.scim_filter = scim_filter
        self.attributes = attributes

    def _resolve(self, path: AttrPath, *, comparison: bool = False) -> AttributeBinding:
        resolve = self.scim_filter.resolve_comparison if comparison else self.scim_filter.resolve
        binding = resolve(path, strict=True)
        assert binding is not None
        return binding

    def visit_logical_expr(self, node: LogicalExpr) -> ColumnElement[bool]:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_not(self, node: Not) -> ColumnElement[bool]:
        return not_(self.visit(node.expr))

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        binding = self._resolve(node.attr_path)
        if binding.is_multivalued:
            plural = self.attributes.plural(binding)
            if binding.sub_field_name is None:
                return plural.any()
            sub = scim_names(binding)[2] or ""
            return plural.any(lambda element: element(sub, binding.case_exact).present())
        return self.attributes.cell(binding).present()

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        binding = self._resolve(node.attr_path, comparison=True)
        value = coerce_value(binding, node.value, node.op)
        if binding.is_multivalued:
            sub = scim_names(binding)[2]
            if sub is None:  # a multi-valued attribute of simple values: none in our schemas
                raise unsupported(binding)
            return self.attributes.plural(binding).any(
                lambda element: element(sub, binding.case_exact).compare(node.op, value)
            )
        return self.attributes.cell(binding).compare(node.op, value)

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        binding = self._resolve(node.attr_path)
        plural = self.attributes.plural(binding)
        return plural.any(lambda element: _ElementCompiler(self, node.attr_path, element).visit(node.val_filter))


class _ElementCompiler(FilterVisitor[ColumnElement[bool]]):
    """The filter between brackets: its paths name sub-attributes of one element."""

    def __init__(self, outer: _Compiler, head: AttrPath, element: Element) -> None:
        self.outer = outer
        self.head = head
        self.element = element

    def _cell(self, path: AttrPath, comparison: bool) -> tuple[Cell, AttributeBinding]:
        if path.sub_attr is not None or path.uri is not None:
            raise InvalidFilter(f"'{path}' is not a sub-attribute of '{self.head}'")
        binding = self.outer._resolve(AttrPath(self.head.attr, path.attr, self.head.uri), comparison=comparison)
        return self.element(scim_names(binding)[2] or "", binding.case_exact), binding

    def visit_logical_expr(self, node: LogicalExpr) -> ColumnElement[bool]:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_not(self, node: Not) -> ColumnElement[bool]:
        return not_(self.visit(node.expr))

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        return self._cell(node.attr_path, False)[0].present()

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        cell, binding = self._cell(node.attr_path, True)
        return cell.compare(node.op, coerce_value(binding, node.value, node.op))

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        raise InvalidFilter("value selections cannot be nested")


def where(scim_filter: ScimFilter[Any], attributes: Attributes) -> ColumnElement[bool]:
    """The WHERE clause for ``scim_filter``; InvalidFilter for what cannot be filtered here."""
    node: FilterNode = scim_filter.ast
    return _Compiler(scim_filter, attributes).visit(node)


def sort_key(binding: AttributeBinding, attributes: Attributes) -> Any:
    """What ORDER BY uses for ``sortBy`` (the primary or first value of a multi-valued attribute)."""
    if binding.is_multivalued:
        plural = attributes.plural(binding)
        sub = scim_names(binding)[2]
        if plural.sort_value is None or sub is None:
            raise unsupported(binding, "sorted on")
        return plural.sort_value(sub, binding.case_exact)
    return attributes.cell(binding).sort_key()
