"""Discovery (RFC 7644 §4): what this service supports, its resource types and their schemas."""

from typing import Any

import scim2_models as scim
from fastapi import APIRouter, Depends, Request
from scim2_models import ForbiddenException, NotFoundException, NotImplementedException

from tenantry.auth.policy import OrgAccess
from tenantry.scim import http
from tenantry.scim.access import PROVISION
from tenantry.scim.errors import ScimResponse
from tenantry.scim.models import EnterpriseUser, Group, User, UserResource
from tenantry.scim.search import MAX_RESULTS, list_response
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/{org}", tags=["Discovery"], route_class=UnitOfWorkRoute)

CONFIG = scim.ServiceProviderConfig(
    documentation_uri=None,
    patch=scim.Patch(supported=True),
    bulk=scim.Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=scim.Filter(supported=True, max_results=MAX_RESULTS),
    change_password=scim.ChangePassword(supported=True),
    sort=scim.Sort(supported=True),
    etag=scim.ETag(supported=True),
    authentication_schemes=[
        scim.AuthenticationScheme(
            type=scim.AuthenticationScheme.Type.oauthbearertoken,
            name="OAuth Bearer Token",
            description="An organization API key (tnt_...) holding the permission scim:provision, sent as "
            "Authorization: Bearer <key>",
            primary=True,
        )
    ],
)
RESOURCE_TYPES = [scim.ResourceType.from_resource(UserResource), scim.ResourceType.from_resource(Group)]
SCHEMAS = [User.to_schema(), EnterpriseUser.to_schema(), Group.to_schema()]


def _no_filter(request: Request) -> None:
    """RFC 7644 §4: a filter on a discovery endpoint is refused with 403."""
    if "filter" in request.query_params:
        raise ForbiddenException(detail="discovery endpoints cannot be filtered")


def _located(item: Any, location: str) -> dict[str, Any]:
    meta = scim.Meta(resource_type=type(item).__name__, location=location)
    body: dict[str, Any] = item.model_copy(update={"meta": meta}).model_dump()
    return body


@router.get("/ServiceProviderConfig", response_model=None)
async def service_provider_config(request: Request, _: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """What this SCIM service supports: PATCH, filter (with maxResults), sort, ETags; not bulk."""
    _no_filter(request)
    location = f"{http.base_url(request, request.path_params['org'])}/ServiceProviderConfig"
    return ScimResponse(_located(CONFIG, location))


@router.get("/ResourceTypes", response_model=None)
async def resource_types(request: Request, _: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """The resource types served: User (with the enterprise extension) and Group."""
    _no_filter(request)
    base = http.base_url(request, request.path_params["org"])
    items = [_located(item, f"{base}/ResourceTypes/{item.id}") for item in RESOURCE_TYPES]
    return ScimResponse(list_response(len(items), 1, items))


@router.get("/ResourceTypes/{name}", response_model=None)
async def resource_type(request: Request, name: str, _: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """One resource type, by name."""
    _no_filter(request)
    found = next((item for item in RESOURCE_TYPES if item.id == name), None)
    if found is None:
        raise NotFoundException(detail=f"no resource type {name!r}")
    return ScimResponse(_located(found, f"{http.base_url(request, request.path_params['org'])}/ResourceTypes/{name}"))


@router.get("/Schemas", response_model=None)
async def schemas(request: Request, _: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """The schemas of the attributes served (and stored) for Users and Groups."""
    _no_filter(request)
    base = http.base_url(request, request.path_params["org"])
    items = [_located(item, f"{base}/Schemas/{item.id}") for item in SCHEMAS]
    return ScimResponse(list_response(len(items), 1, items))


@router.get("/Schemas/{schema_id}", response_model=None)
async def schema(request: Request, schema_id: str, _: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """One schema, by its URN."""
    _no_filter(request)
    found = next((item for item in SCHEMAS if item.id == schema_id), None)
    if found is None:
        raise NotFoundException(detail=f"no schema {schema_id!r}")
    return ScimResponse(_located(found, f"{http.base_url(request, request.path_params['org'])}/Schemas/{schema_id}"))


@router.post("/.search", response_model=None)
async def search_everything(_: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """Searching several resource types at once (RFC 7644 §3.4.3 at the root) is not supported: 501."""
    raise NotImplementedException(detail="search /Users or /Groups; several resource types at once are not supported")


@router.get("/Me", response_model=None)
async def me(_: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """/Me (RFC 7644 §3.11) is not supported: the callers are identity providers' API keys, not users."""
    raise NotImplementedException(detail="/Me is not supported")
