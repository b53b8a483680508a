"""Roles: the built-in ones every organization has, and each organization's own."""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.orgs.models import Organization
from tenantry.core.roles import app_permissions, repository
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import BUILTIN_BY_ID, PERMISSIONS
from tenantry.core.roles.schemas import RoleCreate, RoleOut, RoleUpdate
from tenantry.errors import AlreadyExists, Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from tenantry.i18n import N_


def grant_permissions(role_id: str, stored: list[str]) -> frozenset[str]:
    """What the role ``role_id`` permits: a built-in role's permissions come from the code, another's are
    ``stored`` (its ``permissions`` column)."""
    builtin = BUILTIN_BY_ID.get(role_id)
    return builtin.permissions if builtin is not None else frozenset(stored)


def permissions_of(role: Role) -> frozenset[str]:
    return grant_permissions(role.id, role.permissions)


def grants_permissions(grants: Iterable[tuple[str, list[str]]]) -> frozenset[str]:
    """What roles given as (id, stored permissions) permit together."""
    return frozenset().union(*(grant_permissions(role_id, stored) for role_id, stored in grants))


def union_permissions(roles: list[Role]) -> frozenset[str]:
    return grants_permissions((role.id, role.permissions) for role in roles)


def role_out(role: Role) -> RoleOut:
    return RoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        permissions=sorted(permissions_of(role)),
        builtin=role.builtin,
        created_at=role.created_at,
        updated_at=role.updated_at,
    )


async def resolve(session: AsyncSession, org_id: str, refs: list[str], *, field: str = "roles") -> list[Role]:
    """The roles named by id or name, in order, without repeats; 422 naming each unknown one."""
    found = await repository.find(session, org_id, refs)
    by_ref = {role.id: role for role in found} | {role.name: role for role in found}
    unknown = [FieldError(f"{field}[{i}]", f"unknown role {ref!r}") for i, ref in enumerate(refs) if ref not in by_ref]
    if unknown:
        raise InvalidInput(unknown)
    return list({by_ref[ref].id: by_ref[ref] for ref in refs}.values())


def ensure_grantable(actor: Actor, roles: list[Role]) -> None:
    """Nobody hands out rights they do not hold themselves."""
    for role in roles:
        if not actor.holds(permissions_of(role)):
            raise PermissionDenied(f"cannot grant role {role.name!r}: it holds permissions you do not have")


async def get(session: AsyncSession, org_id: str, ref: str) -> Role:
    roles = await repository.find(session, org_id, [ref])
    match = next((role for role in roles if role.id == ref), None) or next(iter(roles), None)
    if match is None:
        raise NotFound("role not found")
    return match


async def _checked_permissions(session: AsyncSession, actor: Actor, permissions: list[str]) -> list[str]:
    """Tenantry's own permissions the actor holds, and registered application permissions."""
    known = PERMISSIONS.keys() | await app_permissions.registered(session, set(permissions) - PERMISSIONS.keys())
    unknown = [
        FieldError(f"permissions[{i}]", f"unknown permission {name!r}")
        for i, name in enumerate(permissions)
        if name not in known
    ]
    if unknown:
        raise InvalidInput(unknown)
    wanted = sorted(set(permissions))
    if not actor.holds(set(wanted)):
        raise PermissionDenied(N_("a role cannot hold permissions you do not have"))
    return wanted


async def create(session: AsyncSession, actor: Actor, org: Organization, payload: RoleCreate) -> Role:
    permissions = await _checked_permissions(session, actor, payload.permissions)
    if await repository.name_taken(session, org.id, payload.name):
        raise AlreadyExists(f"a role named {payload.name!r} already exists")
    role = Role(org_id=org.id, name=payload.name, description=payload.description, permissions=permissions)
    session.add(role)
    await session.flush()
    record(session, actor, "role.created", org_id=org.id, target_type="role", target_id=role.id)
    return role


def _ensure_custom(role: Role) -> None:
    if role.builtin:
        raise Conflict(f"built-in role {role.name!r} cannot be changed or deleted")


async def update(session: AsyncSession, actor: Actor, org: Organization, role: Role, payload: RoleUpdate) -> Role:
    _ensure_custom(role)
    if not actor.holds(permissions_of(role)):
        raise PermissionDenied(N_("cannot change a role that holds permissions you do not have"))
    if payload.permissions is not None:
        role.permissions = await _checked_permissions(session, actor, payload.permissions)
    if payload.name is not None and payload.name != role.name:
        if await repository.name_taken(session, org.id, payload.name, besides=role.id):
            raise AlreadyExists(f"a role named {payload.name!r} already exists")
        role.name = payload.name
    if payload.description is not None:
        role.description = payload.description
    await session.flush()
    changed = sorted(payload.model_dump(exclude_unset=True))
    record(
        session,
        actor,
        "role.updated",
        org_id=org.id,
        target_type="role",
        target_id=role.id,
        details={"fields": changed},
    )
    return role


async def delete(session: AsyncSession, actor: Actor, org: Organization, role: Role) -> None:
    _ensure_custom(role)
    grants = await repository.grant_count(session, role.id)
    if grants:
        raise Conflict(f"role {role.name!r} is still granted {grants} time(s); revoke it first")
    await repository.release_from_revoked_keys(session, role.id)
    await session.delete(role)
    await session.flush()
    record(session, actor, "role.deleted", org_id=org.id, target_type="role", target_id=role.id)


async def list_for_org(session: AsyncSession, org_id: str) -> list[Role]:
    """The roles visible in the organization: built-in ones first, then its own, by name."""
    return await repository.list_for_org(session, org_id)
