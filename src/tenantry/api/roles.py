"""Roles and the permission catalog."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.routing import UnitOfWorkRoute
from tenantry.auth.policy import OrgAccess, Policy, caller, org_member
from tenantry.core.roles import repository, service
from tenantry.core.roles.permissions import PERMISSIONS
from tenantry.core.roles.schemas import PermissionOut, RoleCreate, RoleOut, RoleUpdate
from tenantry.runtime import get_session

router = APIRouter(tags=["roles"], route_class=UnitOfWorkRoute)
RoleRefPath = Annotated[str, Path(description="Role id or name", max_length=64)]


@router.get("/permissions", response_model=list[PermissionOut], responses=problems(401))
async def list_permissions(_: object = Depends(caller(Policy()))) -> list[PermissionOut]:
    """The permission catalog: every permission a role may hold."""
    return [PermissionOut(name=name, description=text) for name, text in PERMISSIONS.items()]


@router.get("/orgs/{org}/roles", response_model=list[RoleOut], responses=problems(401, 403, 404))
async def list_roles(
    access: OrgAccess = Depends(org_member(Policy("roles:read", partner=True))),
    session: AsyncSession = Depends(get_session),
) -> list[RoleOut]:
    """The built-in roles and the organization's own."""
    return [service.role_out(role) for role in await repository.list_for_org(session, access.org.id)]


@router.post(
    "/orgs/{org}/roles",
    response_model=RoleOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_role(
    payload: RoleCreate,
    access: OrgAccess = Depends(org_member(Policy("roles:write", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> RoleOut:
    """Create a custom role from permissions of the catalog (none you do not hold yourself)."""
    return service.role_out(await service.create(session, access.actor, access.org, payload))


@router.get("/orgs/{org}/roles/{role}", response_model=RoleOut, responses=problems(401, 403, 404))
async def get_role(
    role: RoleRefPath,
    access: OrgAccess = Depends(org_member(Policy("roles:read", partner=True))),
    session: AsyncSession = Depends(get_session),
) -> RoleOut:
    """One role, by id or name."""
    return service.role_out(await service.get(session, access.org.id, role))


@router.patch("/orgs/{org}/roles/{role}", response_model=RoleOut, responses=problems(401, 403, 404, 409, 422))
async def update_role(
    role: RoleRefPath,
    payload: RoleUpdate,
    access: OrgAccess = Depends(org_member(Policy("roles:write", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> RoleOut:
    """Change a custom role; holders get the new permissions on their next request."""
    found = await service.get(session, access.org.id, role)
    return service.role_out(await service.update(session, access.actor, access.org, found, payload))


@router.delete(
    "/orgs/{org}/roles/{role}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409)
)
async def delete_role(
    role: RoleRefPath,
    access: OrgAccess = Depends(org_member(Policy("roles:write", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Delete a custom role that nobody holds."""
    found = await service.get(session, access.org.id, role)
    await service.delete(session, access.actor, access.org, found)
