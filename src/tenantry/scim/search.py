"""Listing and searching (RFC 7644 §3.4.2, §3.4.3): filter, sort and page in the database."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import Context, InvalidFilterException, ListResponse, SearchRequest
from scim2_models.path import Comparison, FilterNode, LogicalExpr, Not, ValuePath
from sqlalchemy import ColumnElement

from tenantry.core.fields import storable
from tenantry.core.provisioning.filters import Attributes, sort_key, where
from tenantry.scim.errors import scim_error
from tenantry.scim.filters import attribute_ref, translate

MAX_RESULTS = 200
"""Largest page (``count``); advertised as ``filter.maxResults`` in ServiceProviderConfig."""
MAX_FILTER_LENGTH = 4096
MAX_FILTER_TERMS = 100
_PARAMETERS = ("filter", "sortBy", "sortOrder", "startIndex", "count", "attributes", "excludedAttributes")


@dataclass(frozen=True)
class Search:
    request: SearchRequest[Any]
    condition: ColumnElement[bool] | None
    order: list[Any]
    offset: int
    limit: int

    @property
    def start_index(self) -> int:
        return self.offset + 1

    @property
    def window(self) -> dict[str, Any]:
        """The page asked for, as the provisioning service's pagers take it."""
        return {"condition": self.condition, "order": self.order, "offset": self.offset, "limit": self.limit}


def _terms(node: FilterNode) -> int:
    if isinstance(node, LogicalExpr):
        return sum(_terms(term) for term in node.terms)
    if isinstance(node, Not):
        return _terms(node.expr)
    if isinstance(node, ValuePath):
        return 1 + _terms(node.val_filter)
    if isinstance(node, Comparison) and isinstance(node.value, str):
        try:
            storable(node.value)
        except ValueError as error:
            raise InvalidFilterException(detail=f"the value {error}") from None
    return 1


def from_query(query: Mapping[str, str]) -> dict[str, Any]:
    return {key: query[key] for key in _PARAMETERS if key in query}


def read(model: Any, payload: Any, attributes: Attributes) -> Search:
    """Validate a search (query parameters or a SearchRequest body) and compile it to SQL."""
    if isinstance(payload, dict) and len(str(payload.get("filter") or "")) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(detail=f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    try:
        request = SearchRequest[model].model_validate(payload, scim_ctx=Context.SEARCH_REQUEST)
    except ValidationError as error:
        raise scim_error(error) from error
    condition = None
    if request.filter is not None:
        if _terms(request.filter.ast) > MAX_FILTER_TERMS:
            raise InvalidFilterException(detail=f"the filter has more than {MAX_FILTER_TERMS} expressions")
        condition = where(translate(request.filter), attributes)
    order: list[Any] = []
    binding = request.sort_binding(model)
    if binding is not None:
        key = sort_key(attribute_ref(binding), attributes)
        descending = request.sort_order == SearchRequest.SortOrder.descending
        order.append(key.desc().nulls_first() if descending else key.asc().nulls_last())
    count = MAX_RESULTS if request.count is None else min(request.count, MAX_RESULTS)
    return Search(request, condition, order, offset=(request.start_index or 1) - 1, limit=count)


def list_response(total: int, start_index: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [str(ListResponse.__schema__)],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": start_index,
        "Resources": resources,
    }
