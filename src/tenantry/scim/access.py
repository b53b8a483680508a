"""Who may call the SCIM endpoints, what every route reads of the call, the list and search routes every
resource type has, and the parameters every resource answer takes."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from scim2_models import ResponseParameters
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.runtime import get_session
from tenantry.scim import http, search
from tenantry.scim.errors import ScimResponse, scim_error

PROVISION = org_member(Policy("scim:provision", impersonation=False), path_param="org")
"""Every SCIM route: an organization API key (or member) holding ``scim:provision`` there."""


def response_parameters(request: Request, model: Any) -> ResponseParameters[Any] | None:
    """``attributes`` / ``excludedAttributes`` of the query (RFC 7644 §3.9)."""
    given = {
        key: request.query_params[key] for key in ("attributes", "excludedAttributes") if key in request.query_params
    }
    if not given:
        return None
    try:
        return ResponseParameters[model].model_validate(given)
    except ValidationError as error:
        raise scim_error(error) from error


@dataclass(frozen=True)
class Provisioning:
    """A SCIM call by a caller holding ``scim:provision`` in the organization, with its unit of work."""

    request: Request
    access: OrgAccess
    session: AsyncSession

    @property
    def base(self) -> str:
        """The organization's SCIM base URL, as the client addresses it (by id or slug)."""
        return http.base_url(self.request, self.request.path_params["org"])


async def provisioning(
    request: Request, access: OrgAccess = Depends(PROVISION), session: AsyncSession = Depends(get_session)
) -> Provisioning:
    return Provisioning(request, access, session)


Lister = Callable[[Provisioning, Any], Awaitable[ScimResponse]]


def add_list_routes(router: APIRouter, listed: Lister, kind: str, *, what: str) -> None:
    """``GET`` (query parameters) and ``POST /.search`` (a SearchRequest body) of a resource type, both answered
    by ``listed``; ``what`` tells how ``GET`` lists."""

    async def list_resources(call: Provisioning = Depends(provisioning)) -> ScimResponse:
        return await listed(call, search.from_query(call.request.query_params))

    async def search_resources(call: Provisioning = Depends(provisioning)) -> ScimResponse:
        return await listed(call, await http.read_json(call.request))

    router.add_api_route(
        "", list_resources, methods=["GET"], response_model=None, name=f"list_{kind}", description=what
    )
    router.add_api_route(
        "/.search",
        search_resources,
        methods=["POST"],
        response_model=None,
        name=f"search_{kind}",
        description=f"Search the organization's {kind} with a SearchRequest body.",
    )
