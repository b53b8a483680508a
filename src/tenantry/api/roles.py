"""Roles and the permission catalog."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.auth.policy import OrgAccess, Policy, caller, org_member
from tenantry.core.actor import Actor
from tenantry.core.roles import app_permissions, service
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import PERMISSIONS
from tenantry.core.roles.schemas import AppPermissionCreate, PermissionOut, RoleCreate, RoleOut, RoleUpdate
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.targets import org_target

router = APIRouter(tags=["roles"], route_class=UnitOfWorkRoute)
RoleRefPath = Annotated[str, Path(alias="role", description="Role id or name", max_length=64)]


@dataclass(frozen=True)
class TargetRole:
    access: OrgAccess
    role: Role


async def _role(session: AsyncSession, access: OrgAccess, ref: str) -> TargetRole:
    return TargetRole(access, await service.get(session, access.org.id, ref))


def target_role(policy: Policy) -> Callable[..., Awaitable[TargetRole]]:
    """Dependency: check ``policy``, then find ``{role}`` among the roles visible in the organization."""
    return org_target(policy, _role, ref=RoleRefPath)


RoleWriter = Annotated[TargetRole, Depends(target_role(Policy("roles:write", impersonation=False)))]


@router.get("/permissions", response_model=list[PermissionOut], responses=problems(401))
async def list_permissions(session: DbSession, _: Actor = Depends(caller(Policy()))) -> list[PermissionOut]:
    """The permission catalog: every permission a role may hold, Tenantry's and the application's."""
    own = [PermissionOut(name=name, description=text) for name, text in PERMISSIONS.items()]
    registered = await app_permissions.all_registered(session)
    return own + [PermissionOut(name=p.name, description=p.description, application=True) for p in registered]


@router.post(
    "/permissions",
    response_model=PermissionOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 422),
)
async def register_permission(
    payload: AppPermissionCreate,
    session: DbSession,
    actor: Actor = Depends(caller(Policy(platform_admin=True, impersonation=False, users_only=True))),
) -> PermissionOut:
    """Register an application permission (`domain:action`, platform admins): custom roles may hold it."""
    permission = await app_permissions.register(session, actor, payload)
    return PermissionOut(name=permission.name, description=permission.description, application=True)


@router.get("/orgs/{org}/roles", response_model=list[RoleOut], responses=problems(401, 403, 404))
async def list_roles(
    session: DbSession, access: OrgAccess = Depends(org_member(Policy("roles:read", partner=True)))
) -> list[RoleOut]:
    """The built-in roles and the organization's own."""
    return [service.role_out(role) for role in await service.list_for_org(session, access.org.id)]


@router.post(
    "/orgs/{org}/roles",
    response_model=RoleOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_role(
    payload: RoleCreate,
    session: DbSession,
    access: OrgAccess = Depends(org_member(Policy("roles:write", impersonation=False))),
) -> RoleOut:
    """Create a custom role from permissions of the catalog (none you do not hold yourself)."""
    return service.role_out(await service.create(session, access.actor, access.org, payload))


@router.get("/orgs/{org}/roles/{role}", response_model=RoleOut, responses=problems(401, 403, 404))
async def get_role(target: TargetRole = Depends(target_role(Policy("roles:read", partner=True)))) -> RoleOut:
    """One role, by id or name."""
    return service.role_out(target.role)


@router.patch("/orgs/{org}/roles/{role}", response_model=RoleOut, responses=problems(401, 403, 404, 409, 422))
async def update_role(payload: RoleUpdate, target: RoleWriter, session: DbSession) -> RoleOut:
    """Change a custom role; holders get the new permissions on their next request."""
    access = target.access
    return service.role_out(await service.update(session, access.actor, access.org, target.role, payload))


@router.delete(
    "/orgs/{org}/roles/{role}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409)
)
async def delete_role(target: RoleWriter, session: DbSession) -> None:
    """Delete a custom role that nobody holds."""
    await service.delete(session, target.access.actor, target.access.org, target.role)
