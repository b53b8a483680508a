"""Resources of an organization (environments, bots, ...) and the role grants scoped to them."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.api.users import target_user
from tenantry.auth.policy import OrgAccess, Policy, Target, org_member
from tenantry.core.resources import grants, service
from tenantry.core.resources.models import Resource
from tenantry.core.resources.schemas import (
    ResourceCreate,
    ResourceOut,
    ResourcePage,
    ResourceUpdate,
    ScopedRoleOut,
    ScopedRolesUpdate,
)
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.targets import org_target

router = APIRouter(tags=["resources"], route_class=UnitOfWorkRoute)
ResourceRefPath = Annotated[str, Path(alias="resource", description="Resource id or external id", max_length=200)]
TypeFilter = Annotated[
    str | None, Query(alias="type", pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="Only this type.")
]
ParentFilter = Annotated[str | None, Query(pattern=r"^[0-9a-f]{24}$", description="Only children of this resource.")]


@dataclass(frozen=True)
class TargetResource:
    access: OrgAccess
    resource: Resource


async def _resource(session: AsyncSession, access: OrgAccess, ref: str) -> TargetResource:
    return TargetResource(access, await service.get(session, access.org.id, ref))


def target_resource(policy: Policy) -> Callable[..., Awaitable[TargetResource]]:
    """Dependency: check ``policy``, then find ``{resource}`` in the organization (404 otherwise)."""
    return org_target(policy, _resource, ref=ResourceRefPath)


ResourceWriter = Annotated[TargetResource, Depends(target_resource(Policy("resources:write", impersonation=False)))]


@router.get("/orgs/{org}/resources", response_model=ResourcePage, responses=problems(401, 403, 404, 422))
async def list_resources(
    session: DbSession,
    access: OrgAccess = Depends(org_member(Policy("resources:read", partner=True))),
    resource_type: TypeFilter = None,
    parent_id: ParentFilter = None,
    active: Annotated[bool | None, Query(description="Only active (or inactive) resources.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ResourcePage:
    """List the organization's resources, in id order, a page at a time."""
    rows = await service.page(
        session,
        access.org.id,
        type_=resource_type,
        parent_id=parent_id,
        active=active,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    after = rows[limit - 1].id if len(rows) > limit else None
    return ResourcePage(
        items=[ResourceOut.model_validate(row) for row in rows[:limit]], next_cursor=encode_cursor(after)
    )


@router.post(
    "/orgs/{org}/resources",
    response_model=ResourceOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_resource(
    payload: ResourceCreate,
    session: DbSession,
    access: OrgAccess = Depends(org_member(Policy("resources:write", impersonation=False))),
) -> ResourceOut:
    """Create a resource; a bot belongs to an environment (``parent_id``)."""
    return ResourceOut.model_validate(await service.create(session, access.actor, access.org, payload))


@router.get("/orgs/{org}/resources/{resource}", response_model=ResourceOut, responses=problems(401, 403, 404))
async def get_resource(
    target: TargetResource = Depends(target_resource(Policy("resources:read", partner=True))),
) -> ResourceOut:
    """One resource, by id or external id."""
    return ResourceOut.model_validate(target.resource)


@router.patch(
    "/orgs/{org}/resources/{resource}", response_model=ResourceOut, responses=problems(401, 403, 404, 409, 422)
)
async def update_resource(payload: ResourceUpdate, target: ResourceWriter, session: DbSession) -> ResourceOut:
    """Rename, move, re-key, activate or deactivate a resource."""
    access = target.access
    return ResourceOut.model_validate(await service.update(session, access.actor, access.org, target.resource, payload))


@router.delete(
    "/orgs/{org}/resources/{resource}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409)
)
async def delete_resource(target: ResourceWriter, session: DbSession) -> None:
    """Delete a resource that has no children; grants and configurations scoped to it go too."""
    await service.delete(session, target.access.actor, target.access.org, target.resource)


@router.get(
    "/orgs/{org}/users/{user}/scoped-roles", response_model=list[ScopedRoleOut], responses=problems(401, 403, 404)
)
async def list_scoped_roles(
    session: DbSession, target: Target = Depends(target_user(Policy("users:read", partner=True)))
) -> list[ScopedRoleOut]:
    """The roles the user holds on single resources (each covers the resources beneath it)."""
    membership_id = target.member.membership.id
    return [grants.grant_out(grant) for grant in (await grants.of_memberships(session, [membership_id]))[membership_id]]


@router.put(
    "/orgs/{org}/users/{user}/scoped-roles",
    response_model=list[ScopedRoleOut],
    responses=problems(401, 403, 404, 422),
)
async def set_scoped_roles(
    payload: ScopedRolesUpdate,
    session: DbSession,
    target: Target = Depends(target_user(Policy("users:roles", impersonation=False, partner=True))),
) -> list[ScopedRoleOut]:
    """Replace the roles the user holds on single resources; organization-wide roles are not touched."""
    access = target.access
    wanted = await grants.resolve(session, access.org.id, payload.grants, field="grants")
    result = await grants.change(session, access.actor, access.org, target.member, add=wanted, replace=True)
    return [grants.grant_out(grant) for grant in result]
