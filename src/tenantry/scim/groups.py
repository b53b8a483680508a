"""/Groups: the organization's roles (built-in and its own) as SCIM Groups; members hold the role here."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from scim2_models import Context, MutabilityException, PatchOp, ResponseParameters
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess
from tenantry.core.provisioning import service
from tenantry.core.provisioning.attributes import GroupAttributes
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import Role
from tenantry.db.ids import is_id
from tenantry.errors import NotFound
from tenantry.runtime import get_session
from tenantry.scim import http, search
from tenantry.scim.access import PROVISION, response_parameters
from tenantry.scim.errors import ScimResponse, scim_error
from tenantry.scim.models import POLICY, Group
from tenantry.scim.translate import dump, group_resource, group_version, member_ids, role_provision, wants_members
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/{org}/Groups", tags=["Groups"], route_class=UnitOfWorkRoute)


async def _role(session: AsyncSession, access: OrgAccess, role_id: str, *, lock: bool = False) -> Role:
    if not is_id(role_id):
        raise NotFound("group not found")
    role = await roles.get(session, access.org.id, role_id)
    if role.id != role_id:
        raise NotFound("group not found")
    if lock:
        await service.lock_role(session, access.org, role)
    return role


async def _resources(
    request: Request, session: AsyncSession, access: OrgAccess, found: list[Role], with_members: bool
) -> list[Group]:
    ids = [role.id for role in found]
    states = await service.role_states(session, access.org, ids)
    holders = await service.holders(session, access.org, ids) if with_members else {}
    base = http.base_url(request, request.path_params["org"])
    return [
        group_resource(role, states.get(role.id), holders[role.id] if with_members else None, base) for role in found
    ]


async def _list(request: Request, access: OrgAccess, session: AsyncSession, payload: Any) -> ScimResponse:
    found = search.read(Group, payload, GroupAttributes(access.org.id))
    total, found_roles = await service.role_page(
        session, access.org, condition=found.condition, order=found.order, offset=found.offset, limit=found.limit
    )
    groups = await _resources(request, session, access, found_roles, wants_members(found.request))
    return ScimResponse(search.list_response(total, found.start_index, [dump(g, found.request) for g in groups]))


@router.get("", response_model=None)
async def list_groups(
    request: Request, access: OrgAccess = Depends(PROVISION), session: AsyncSession = Depends(get_session)
) -> ScimResponse:
    """List or search the organization's groups: its roles, built-in ones first."""
    return await _list(request, access, session, search.from_query(request.query_params))


@router.post("/.search", response_model=None)
async def search_groups(
    request: Request, access: OrgAccess = Depends(PROVISION), session: AsyncSession = Depends(get_session)
) -> ScimResponse:
    """Search the organization's groups with a SearchRequest body."""
    return await _list(request, access, session, await http.read_json(request))


async def _current(request: Request, session: AsyncSession, access: OrgAccess, role: Role, members: bool) -> Group:
    return (await _resources(request, session, access, [role], members))[0]


async def _answer(
    request: Request, session: AsyncSession, access: OrgAccess, role: Role, status: int = 200
) -> Response:
    parameters: ResponseParameters[Any] | None = response_parameters(request, Group)
    resource = await _current(request, session, access, role, wants_members(parameters))
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
async def create_group(
    request: Request, access: OrgAccess = Depends(PROVISION), session: AsyncSession = Depends(get_session)
) -> Response:
    """Create a group: a custom role without permissions, held by the members given."""
    resource = _validated(await http.read_json(request), Context.RESOURCE_CREATION_REQUEST)
    _only_users(resource)
    role = await service.create_role(session, access.actor, access.org, role_provision(resource), member_ids(resource))
    return await _answer(request, session, access, role, status=201)


@router.get("/{group_id}", response_model=None)
async def get_group(
    request: Request,
    group_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """One group (304 when If-None-Match names its version)."""
    role = await _role(session, access, group_id)
    version = group_version(await service.role_state(session, access.org, role))
    if http.not_modified(request, version):
        return Response(status_code=304, headers={"ETag": version})
    return await _answer(request, session, access, role)


async def _write(session: AsyncSession, access: OrgAccess, role: Role, before: Group, after: Group) -> None:
    _only_users(after)
    old, new = member_ids(before), member_ids(after)
    await service.update_role(
        session, access.actor, access.org, role, role_provision(after), add=new - old, remove=old - new
    )


@router.put("/{group_id}", response_model=None)
async def replace_group(
    request: Request,
    group_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Replace the group's name, external id and members (built-in groups keep their names)."""
    role = await _role(session, access, group_id, lock=True)
    current = await _current(request, session, access, role, members=True)
    assert current.meta is not None
    assert current.meta.version
    http.check_if_match(request, current.meta.version)
    replacement = _validated(await http.read_json(request), Context.RESOURCE_REPLACEMENT_REQUEST)
    replacement.replace(current)
    await _write(session, access, role, current, replacement)
    return await _answer(request, session, access, role)


@router.patch("/{group_id}", response_model=None)
async def patch_group(
    request: Request,
    group_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Change the group: add or remove members, rename it (204 unless attributes are asked for)."""
    role = await _role(session, access, group_id, lock=True)
    current = await _current(request, session, access, role, members=True)
    assert current.meta is not None
    assert current.meta.version
    http.check_if_match(request, current.meta.version)
    try:
        patch = PatchOp[Group].model_validate(
            _readable(await http.read_json(request)), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as error:
        raise scim_error(error) from error
    changed = current.model_copy(deep=True)
    if patch.patch(changed, POLICY):
        await _write(session, access, role, current, changed)
    if response_parameters(request, Group) is None:
        return http.no_content(group_version(await service.role_state(session, access.org, role)))
    return await _answer(request, session, access, role)


@router.delete("/{group_id}", status_code=204, response_model=None)
async def delete_group(
    request: Request,
    group_id: str,
    access: OrgAccess = Depends(PROVISION),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Delete the group: the role is taken from its members, then deleted (built-in groups cannot be)."""
    role = await _role(session, access, group_id, lock=True)
    http.check_if_match(request, group_version(await service.role_state(session, access.org, role)))
    await service.delete_role(session, access.actor, access.org, role)
    return http.no_content()
