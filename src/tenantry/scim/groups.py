"""/Groups: the organization's roles (built-in and its own) as SCIM Groups; members hold the role here."""

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import ValidationError
from scim2_models import Context, MutabilityException, PatchOp, ResponseParameters

from tenantry.core.provisioning import service
from tenantry.core.provisioning.attributes import GroupAttributes
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import Role
from tenantry.db.ids import is_id
from tenantry.errors import NotFound
from tenantry.scim import http, search
from tenantry.scim.access import Provisioning, add_list_routes, provisioning, response_parameters
from tenantry.scim.errors import ScimResponse, scim_error
from tenantry.scim.models import POLICY, Group
from tenantry.scim.translate import dump, group_resource, group_version, member_ids, role_provision, wants_members
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/{org}/Groups", tags=["Groups"], route_class=UnitOfWorkRoute)


async def _role(call: Provisioning, role_id: str, *, lock: bool = False) -> Role:
    if not is_id(role_id):
        raise NotFound("group not found")
    role = await roles.get(call.session, call.access.org.id, role_id)
    if role.id != role_id:
        raise NotFound("group not found")
    if lock:
        await service.lock_role(call.session, call.access.org, role)
    return role


async def _resources(call: Provisioning, found: list[Role], with_members: bool) -> list[Group]:
    ids = [role.id for role in found]
    states = await service.role_states(call.session, call.access.org, ids)
    holders = await service.holders(call.session, call.access.org, ids) if with_members else {}
    return [
        group_resource(role, states.get(role.id), holders[role.id] if with_members else None, call.base)
        for role in found
    ]


async def _list(call: Provisioning, payload: Any) -> ScimResponse:
    found = search.read(Group, payload, GroupAttributes(call.access.org.id))
    total, found_roles = await service.role_page(call.session, call.access.org, **found.window)
    groups = await _resources(call, found_roles, wants_members(found.request))
    return ScimResponse(search.list_response(total, found.start_index, [dump(g, found.request) for g in groups]))


add_list_routes(
    router, _list, "groups", what="List or search the organization's groups: its roles, built-in ones first."
)


async def _answer(call: Provisioning, role: Role, status: int = 200) -> Response:
    parameters: ResponseParameters[Any] | None = response_parameters(call.request, Group)
    resource = (await _resources(call, [role], wants_members(parameters)))[0]
    assert resource.meta is not None
    assert resource.meta.version
    assert resource.meta.location
    body = dump(resource, parameters)
    return http.resource_response(body, version=resource.meta.version, location=resource.meta.location, status=status)


def _without_display(value: Any) -> Any:
    """Drop ``display`` from member values (Okta sends one; it is read-only, not stored, here) and null
    sub-attributes (Entra ID removes members by ``{"$ref": null, "value": …}``, which must match by value)."""
    if isinstance(value, list):
        return [_without_display(item) for item in value]
    if isinstance(value, dict):
        cleaned = {key: item for key, item in value.items() if key.lower() != "display" and item is not None}
        return {key: _without_display(item) if key.lower() == "members" else item for key, item in cleaned.items()}
    return value


def _readable(payload: Any) -> Any:
    """The request body with members' ``display`` left out, wherever members are given."""
    if not isinstance(payload, dict):
        return payload
    if isinstance(payload.get("Operations"), list):
        operations = []
        for operation in payload["Operations"]:
            if isinstance(operation, dict) and "value" in operation:
                path = str(operation.get("path") or "").lower()
                value = operation["value"]
                if path.startswith("members"):
                    value = _without_display(value)
                elif isinstance(value, dict) and not path:
                    value = {k: _without_display(v) if k.lower() == "members" else v for k, v in value.items()}
                operation = {**operation, "value": value}
            operations.append(operation)
        return {**payload, "Operations": operations}
    if isinstance(payload.get("members"), list):
        return {**payload, "members": _without_display(payload["members"])}
    return payload


def _validated(payload: Any, context: Context) -> Group:
    try:
        return Group.model_validate(_readable(http.known_schemas(payload)), scim_ctx=context, scim_policy=POLICY)
    except ValidationError as error:
        raise scim_error(error) from error


def _only_users(resource: Group) -> None:
    for member in resource.members or []:
        if member.type not in (None, "User"):
            raise MutabilityException(detail="members can only be users: groups do not nest here")


@router.post("", response_model=None, status_code=201)
async def create_group(call: Provisioning = Depends(provisioning)) -> Response:
    """Create a group: a custom role without permissions, held by the members given."""
    resource = _validated(await http.read_json(call.request), Context.RESOURCE_CREATION_REQUEST)
    _only_users(resource)
    access = call.access
    role = await service.create_role(
        call.session, access.actor, access.org, role_provision(resource), member_ids(resource)
    )
    return await _answer(call, role, status=201)


@router.get("/{group_id}", response_model=None)
async def get_group(group_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """One group (304 when If-None-Match names its version)."""
    role = await _role(call, group_id)
    version = group_version(await service.role_state(call.session, call.access.org, role))
    if http.not_modified(call.request, version):
        return Response(status_code=304, headers={"ETag": version})
    return await _answer(call, role)


async def _changing(call: Provisioning, group_id: str) -> tuple[Role, Group]:
    """The role, locked for the change, and the group as it stands (members too), once ``If-Match`` (when
    sent) names its version."""
    role = await _role(call, group_id, lock=True)
    current = (await _resources(call, [role], True))[0]
    assert current.meta is not None
    assert current.meta.version
    http.check_if_match(call.request, current.meta.version)
    return role, current


async def _write(call: Provisioning, role: Role, before: Group, after: Group) -> None:
    _only_users(after)
    old, new = member_ids(before), member_ids(after)
    await service.update_role(
        call.session, call.access.actor, call.access.org, role, role_provision(after), add=new - old, remove=old - new
    )


@router.put("/{group_id}", response_model=None)
async def replace_group(group_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """Replace the group's name, external id and members (built-in groups keep their names)."""
    role, current = await _changing(call, group_id)
    replacement = _validated(await http.read_json(call.request), Context.RESOURCE_REPLACEMENT_REQUEST)
    replacement.replace(current)
    await _write(call, role, current, replacement)
    return await _answer(call, role)


@router.patch("/{group_id}", response_model=None)
async def patch_group(group_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """Change the group: add or remove members, rename it (204 unless attributes are asked for)."""
    role, current = await _changing(call, group_id)
    try:
        patch = PatchOp[Group].model_validate(
            _readable(await http.read_json(call.request)), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as error:
        raise scim_error(error) from error
    changed = current.model_copy(deep=True)
    if patch.patch(changed, POLICY):
        await _write(call, role, current, changed)
    if response_parameters(call.request, Group) is None:
        return http.no_content(group_version(await service.role_state(call.session, call.access.org, role)))
    return await _answer(call, role)


@router.delete("/{group_id}", status_code=204, response_model=None)
async def delete_group(group_id: str, call: Provisioning = Depends(provisioning)) -> Response:
    """Delete the group: the role is taken from its members, then deleted (built-in groups cannot be)."""
    role = await _role(call, group_id, lock=True)
    http.check_if_match(call.request, group_version(await service.role_state(call.session, call.access.org, role)))
    await service.delete_role(call.session, call.access.actor, call.access.org, role)
    return http.no_content()
