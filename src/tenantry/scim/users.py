"""/Users: the organization's members as SCIM Users (RFC 7644 §3.3 to §3.6)."""

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import ValidationError
from scim2_models import Context, MutabilityException, PatchOp

from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.provisioning import service
from tenantry.db.ids import is_id
from tenantry.errors import NotFound
from tenantry.runtime import runtime_of
from tenantry.scim import http, search
from tenantry.scim.access import Provisioning, add_list_routes, provisioning, response_parameters
from tenantry.scim.errors import ScimResponse, scim_error
from tenantry.scim.models import POLICY, UserResource
from tenantry.scim.translate import dump, member_provision, user_resource, user_version
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/{org}/Users", tags=["Users"], route_class=UnitOfWorkRoute)


async def _member(call: Provisioning, user_id: str, *, lock: bool = False) -> Member:
    if not is_id(user_id):
        raise NotFound("user not found")
    return await service.member(call.session, call.access.org, user_id, lock=lock)


async def _changing(call: Provisioning, user_id: str) -> Member:
    """The member, locked for the change, once ``If-Match`` (when sent) names its version."""
    member = await _member(call, user_id, lock=True)
    http.check_if_match(call.request, user_version(member))
    return member


async def _list(call: Provisioning, payload: Any) -> ScimResponse:
    found = search.read(UserResource, payload, service.user_attributes(call.session))
    total, members = await service.member_page(call.session, call.access.org, **found.window)
    resources = [dump(user_resource(member, call.base), found.request) for member in members]
    return ScimResponse(search.list_response(total, found.start_index, resources))


add_list_routes(
    router, _list, "users", what="List or search the organization's users (filter, sortBy, startIndex, count)."
)


def _answer(call: Provisioning, member: Member, status: int = 200) -> ScimResponse:
    resource = user_resource(member, call.base)
    parameters = response_parameters(call.request, UserResource)
    return http.resource_response(
        dump(resource, parameters), version=user_version(member), location=resource.meta.location, status=status
    )


def _validated(payload: Any, context: Context) -> Any:
    try:
        return UserResource.model_validate(payload, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as error:
        raise scim_error(error) from error


@router.post("", response_model=None, status_code=201)
async def create_user(call: Provisioning = Depends(provisioning)) -> Response:
    """Provision a user: a new account, or an existing account (same email) invited to join the organization."""
    resource = _validated(http.known_schemas(await http.read_json(call.request)), Context.RESOURCE_CREATION_REQUEST)
    runtime, access = runtime_of(call.request), call.access
    member = await service.create_member(
        call.session, access.actor, access.org, member_provision(resource), runtime.passwords, runtime.flows
    )
    return _answer(call, member, status=201)


@router.get("/{user_id}", response_model=None)
async def get_user(user_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """One user of the organization (304 when If-None-Match names its version)."""
    member = await _member(call, user_id)
    if http.not_modified(call.request, user_version(member)):
        return Response(status_code=304, headers={"ETag": user_version(member)})
    return _answer(call, member)


async def _update(call: Provisioning, member: Member, resource: UserResource) -> None:
    payload, passwords = member_provision(resource), runtime_of(call.request).passwords
    await service.update_member(call.session, call.access.actor, call.access.org, member, payload, passwords)


@router.put("/{user_id}", response_model=None)
async def replace_user(user_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """Replace the user's attributes (an `active` left out stays as it is)."""
    member = await _changing(call, user_id)
    body = http.known_schemas(await http.read_json(call.request))
    replacement = _validated(body, Context.RESOURCE_REPLACEMENT_REQUEST)
    replacement.replace(user_resource(member, call.base))
    await _update(call, member, replacement)
    return _answer(call, member)


@router.patch("/{user_id}", response_model=None)
async def patch_user(user_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """Change some attributes (add, remove, replace; paths may select values, e.g. emails[type eq "work"])."""
    member = await _changing(call, user_id)
    try:
        patch = PatchOp[UserResource].model_validate(
            await http.read_json(call.request), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as error:
        raise scim_error(error) from error
    resource = user_resource(member, call.base)
    if patch.patch(resource, POLICY):
        if resource.active is None:
            raise MutabilityException(detail="'active' cannot be removed: replace it with false to deactivate the user")
        await _update(call, member, resource)
    return _answer(call, member)


@router.delete("/{user_id}", status_code=204, response_model=None)
async def delete_user(user_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """Remove the user from the organization; the account goes too when it belongs nowhere else."""
    member = await _changing(call, user_id)
    await memberships.remove(call.session, call.access.actor, call.access.org, member)
    return http.no_content()
