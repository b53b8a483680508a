"""A SCIM filter in core's terms (``core.provisioning.filter_tree``).

scim2-models parses the filter and binds each attribute path to the attribute our resource models
declare; here each binding becomes an ``AttributeRef`` and each value is read as its attribute's type
(a dateTime becomes a ``datetime``). Core compiles the result to SQL.
"""

from datetime import datetime
from inspect import isclass
from typing import Any

from pydantic import BaseModel
from scim2_models import Reference, ScimFilter
from scim2_models.path import (
    AttributeBinding,
    AttrPath,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
    coerce_value,
)

from tenantry.core.provisioning import filter_tree as tree
from tenantry.core.provisioning.filters import nested_selection
from tenantry.errors import InvalidFilter

_TYPES: list[tuple[type, tree.AttributeType]] = [
    (bool, "boolean"),  # before int, which bool subclasses
    (int, "integer"),
    (float, "decimal"),
    (datetime, "dateTime"),
    (bytes, "binary"),
    (BaseModel, "complex"),
    (Reference, "reference"),
]


def _type(binding: AttributeBinding) -> tree.AttributeType:
    target = binding.target_type
    if isclass(target):
        for python_type, attribute_type in _TYPES:
            if issubclass(target, python_type):
                return attribute_type
    return "string"


def attribute_ref(binding: AttributeBinding) -> tree.AttributeRef:
    """The attribute ``binding`` names, spelled as its schema spells it."""
    schema = str(getattr(binding.model, "__schema__", "") or "")
    rest = binding.urn[len(schema) + 1 :] if schema and binding.urn.startswith(schema + ":") else binding.urn
    attribute, _, sub = rest.partition(".")
    return tree.AttributeRef(
        schema=schema,
        attribute=attribute,
        sub_attribute=sub or None,
        multivalued=binding.is_multivalued,
        case_exact=binding.case_exact,
        type=_type(binding),
    )


class _Translator(FilterVisitor[tree.Filter]):
    def __init__(self, scim_filter: ScimFilter[Any]) -> None:
        self.scim_filter = scim_filter

    def resolve(self, path: AttrPath, *, comparison: bool = False) -> AttributeBinding:
        resolve = self.scim_filter.resolve_comparison if comparison else self.scim_filter.resolve
        binding = resolve(path, strict=True)
        assert binding is not None
        return binding

    def visit_logical_expr(self, node: LogicalExpr) -> tree.Filter:
        terms = tuple(self.visit(term) for term in node.terms)
        return tree.And(terms) if node.op == LogicalOperator.and_ else tree.Or(terms)

    def visit_not(self, node: Not) -> tree.Filter:
        return tree.Not(self.visit(node.expr))

    def visit_present(self, node: Present) -> tree.Filter:
        return tree.Present(attribute_ref(self.resolve(node.attr_path)))

    def visit_comparison(self, node: Comparison) -> tree.Filter:
        binding = self.resolve(node.attr_path, comparison=True)
        value = coerce_value(binding, node.value, node.op)
        return tree.Compare(attribute_ref(binding), tree.Operator(node.op.value), value)

    def visit_value_path(self, node: ValuePath) -> tree.Filter:
        head = attribute_ref(self.resolve(node.attr_path))
        return tree.ValueSelection(head, _ElementTranslator(self, node.attr_path).visit(node.val_filter))


class _ElementTranslator(_Translator):
    """The filter between brackets: its paths name sub-attributes of one element of ``head``."""

    def __init__(self, outer: _Translator, head: AttrPath) -> None:
        super().__init__(outer.scim_filter)
        self.head = head

    def resolve(self, path: AttrPath, *, comparison: bool = False) -> AttributeBinding:
        if path.sub_attr is not None or path.uri is not None:
            raise InvalidFilter(f"'{path}' is not a sub-attribute of '{self.head}'")
        return super().resolve(AttrPath(self.head.attr, path.attr, self.head.uri), comparison=comparison)

    def visit_value_path(self, node: ValuePath) -> tree.Filter:
        raise nested_selection()


def translate(scim_filter: ScimFilter[Any]) -> tree.Filter:
    """Core's tree for ``scim_filter``: InvalidFilter (or scim2-models' InvalidFilterException) for a path
    that names no attribute of the resource, or a value that does not fit its attribute."""
    return _Translator(scim_filter).visit(scim_filter.ast)
