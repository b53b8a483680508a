"""Discovery (RFC 7644 §4): what this service supports, its resource types and their schemas."""

from typing import Annotated, Any

import scim2_models as scim
from fastapi import APIRouter, Depends, Path, Request
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


def _add_catalog(
    segment: str, items: list[Any], param: str, noun: str, *, names: tuple[str, str], all_items: str, one: str
) -> None:
    """``GET /{segment}`` (every item, described by ``all_items``) and ``GET /{segment}/{param}`` (one, by its id;
    ``noun`` says what an item is) of a discovery catalog; ``names`` are the two routes' names."""

    async def listed(request: Request, _: OrgAccess = Depends(PROVISION)) -> ScimResponse:
        _no_filter(request)
        base = http.base_url(request, request.path_params["org"])
        located = [_located(item, f"{base}/{segment}/{item.id}") for item in items]
        return ScimResponse(list_response(len(located), 1, located))

    async def found(
        request: Request, key: Annotated[str, Path(alias=param)], _: OrgAccess = Depends(PROVISION)
    ) -> ScimResponse:
        _no_filter(request)
        item = next((item for item in items if item.id == key), None)
        if item is None:
            raise NotFoundException(detail=f"no {noun} {key!r}")
        return ScimResponse(_located(item, f"{http.base_url(request, request.path_params['org'])}/{segment}/{key}"))

    router.add_api_route(
        f"/{segment}", listed, methods=["GET"], response_model=None, name=names[0], description=all_items
    )
    router.add_api_route(
        f"/{segment}/{{{param}}}", found, methods=["GET"], response_model=None, name=names[1], description=one
    )


_add_catalog(
    "ResourceTypes",
    RESOURCE_TYPES,
    "name",
    "resource type",
    names=("resource_types", "resource_type"),
    all_items="The resource types served: User (with the enterprise extension) and Group.",
    one="One resource type, by name.",
)
_add_catalog(
    "Schemas",
    SCHEMAS,
    "schema_id",
    "schema",
    names=("schemas", "schema"),
    all_items="The schemas of the attributes served (and stored) for Users and Groups.",
    one="One schema, by its URN.",
)


@router.post("/.search", response_model=None)
async def search_everything(_: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """Searching several resource types at once (RFC 7644 §3.4.3 at the root) is not supported: 501."""
    raise NotImplementedException(detail="search /Users or /Groups; several resource types at once are not supported")


@router.get("/Me", response_model=None)
async def me(_: OrgAccess = Depends(PROVISION)) -> ScimResponse:
    """/Me (RFC 7644 §3.11) is not supported: the callers are identity providers' API keys, not users."""
    raise NotImplementedException(detail="/Me is not supported")
