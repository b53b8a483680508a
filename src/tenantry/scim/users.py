"""/Users: the organization's members as SCIM Users (RFC 7644 §3.3 to §3.6)."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from scim2_models import Context, MutabilityException, PatchOp, ResponseParameters
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.provisioning import service
from tenantry.db.ids import is_id
from tenantry.errors import NotFound
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.scim import http, search
from tenantry.scim.access import PROVISION, response_parameters
from tenantry.scim.errors import ScimResponse, scim_error
from tenantry.scim.models import POLICY, UserResource
from tenantry.scim.translate import dump, member_provision, user_resource, user_version
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/{org}/Users", tags=["Users"], route_class=UnitOfWorkRoute)


async def _member(session: AsyncSession, access: OrgAccess, user_id: str, *, lock: bool = False) -> Member:
    if not is_id(user_id):
        raise NotFound("user not found")
    return await service.member(session, access.org, user_id, lock=lock)


async def _list(request: Request, access: OrgAccess, session: AsyncSession, payload: Any) -> ScimResponse:
    found = search.read(UserResource, payload, service.user_attributes(session))
    total, members = await service.member_page(
        session, access.org, condition=found.condition, order=found.order, offset=found.offset, limit=found.limit
    )
    base = http.base_url(request, request.path_params["org"])
    resources = [dump(user_resource(member, base), found.request) for member in members]
    return ScimResponse(search.list_response(total, found.start_index, resources))


@router.get("", response_model=None)
async def list_users(
    request: Request, access: OrgAccess = Depends(PROVISION), session: AsyncSession = Depends(get_session)
) -> ScimResponse:
    """List or search the organization's users (filter, sortBy, startIndex, count)."""
    return await _list(request, access, session, search.from_query(request.query_params))


@router.post("/.search", response_model=None)
async def search_users(
    request: Request, access: OrgAccess = Depends(PROVISION), session: AsyncSession = Depends(get_session)
) -> ScimResponse:
    """Search the organization's users with a SearchRequest body."""
    return await _list(request, access, session, await http.read_json(request))


def _answer(
    request: Request, member: Member, parameters: ResponseParameters[Any] | None, status: int = 200
) -> ScimResponse:
    resource = user_resource(member, http.base_url(request, request.path_params["org"]))
    return http.resource_response(
        dump(resource, parameters), version=user_version(member), location=resource.meta.location, status=status
    )


def _validated(payload: Any, context: Context) -> Any:
    try:
        return UserResource.model_validate(payload, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as error:
        raise scim_error(error) from error


@router.post("", response_model=None, status_code=201)
async def create_user(
    request: Request,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Provision a user: a new account, or an existing account (same email) invited to join the organization."""
    resource = _validated(http.known_schemas(await http.read_json(request)), Context.RESOURCE_CREATION_REQUEST)
    payload = member_provision(resource)
    member = await service.create_member(session, access.actor, access.org, payload, runtime.passwords, runtime.flows)
    return _answer(request, member, response_parameters(request, UserResource), status=201)


@router.get("/{user_id}", response_model=None)
async def get_user(
    request: Request,
    user_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """One user of the organization (304 when If-None-Match names its version)."""
    member = await _member(session, access, user_id)
    if http.not_modified(request, user_version(member)):
        return Response(status_code=304, headers={"ETag": user_version(member)})
    return _answer(request, member, response_parameters(request, UserResource))


@router.put("/{user_id}", response_model=None)
async def replace_user(
    request: Request,
    user_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Replace the user's attributes (an `active` left out stays as it is)."""
    member = await _member(session, access, user_id, lock=True)
    http.check_if_match(request, user_version(member))
    replacement = _validated(http.known_schemas(await http.read_json(request)), Context.RESOURCE_REPLACEMENT_REQUEST)
    replacement.replace(user_resource(member, http.base_url(request, request.path_params["org"])))
    payload = member_provision(replacement)
    await service.update_member(session, access.actor, access.org, member, payload, runtime.passwords)
    return _answer(request, member, response_parameters(request, UserResource))


@router.patch("/{user_id}", response_model=None)
async def patch_user(
    request: Request,
    user_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Change some attributes (add, remove, replace; paths may select values, e.g. emails[type eq "work"])."""
    member = await _member(session, access, user_id, lock=True)
    http.check_if_match(request, user_version(member))
    try:
        patch = PatchOp[UserResource].model_validate(
            await http.read_json(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as error:
        raise scim_error(error) from error
    resource = user_resource(member, http.base_url(request, request.path_params["org"]))
    if patch.patch(resource, POLICY):
        if resource.active is None:
            raise MutabilityException(detail="'active' cannot be removed: replace it with false to deactivate the user")
        payload = member_provision(resource)
        await service.update_member(session, access.actor, access.org, member, payload, runtime.passwords)
    return _answer(request, member, response_parameters(request, UserResource))


@router.delete("/{user_id}", status_code=204, response_model=None)
async def delete_user(
    request: Request,
    user_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Remove the user from the organization; the account goes too when it belongs nowhere else."""
    member = await _member(session, access, user_id, lock=True)
    http.check_if_match(request, user_version(member))
    await memberships.remove(session, access.actor, access.org, member)
    return http.no_content()
