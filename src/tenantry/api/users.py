"""Users of an organization: the accounts and their memberships, seen from the organization."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.api.routing import UnitOfWorkRoute
from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.fields import storable
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.users import service
from tenantry.core.users.schemas import PasswordSet, RolesUpdate, UserCreate, UserOut, UserPage, UserUpdate
from tenantry.runtime import Runtime, get_runtime, get_session

router = APIRouter(prefix="/orgs/{org}/users", tags=["users"], route_class=UnitOfWorkRoute)

UserRef = Annotated[str, Path(description="User id", max_length=64)]
SearchTerm = Annotated[
    str | None,
    Query(max_length=200, description="Case-insensitive partial match on email, first and last name."),
]


async def _member(org_access: OrgAccess, user: str, session: AsyncSession) -> Member:
    return await memberships.get(session, org_access.org, user)


@router.get("", response_model=UserPage, responses=problems(401, 403, 404, 422))
async def list_users(
    access: OrgAccess = Depends(org_member(Policy("users:read", partner=True))),
    session: AsyncSession = Depends(get_session),
    q: SearchTerm = None,
    status: Annotated[Literal["active", "disabled", "invited"] | None, Query()] = None,
    role: Annotated[str | None, Query(max_length=64, description="Role name or id.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    """List and search the organization's users, in id order, a page at a time."""
    members, after = await service.page(
        session,
        access.org,
        q=storable(q) if q else None,
        status=status,
        role=storable(role) if role else None,
        after=decode_cursor(cursor),
        limit=limit,
    )
    return UserPage(items=[service.member_out(member) for member in members], next_cursor=encode_cursor(after))


@router.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 404, 409, 422)
)
async def create_user(
    payload: UserCreate,
    access: OrgAccess = Depends(org_member(Policy("users:create", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> UserOut:
    """Create an account and make it a member; without a password the user is invited."""
    member = await service.create(session, access.actor, access.org, payload, runtime.passwords)
    return service.member_out(member)


@router.get("/{user}", response_model=UserOut, responses=problems(401, 403, 404))
async def get_user(
    user: UserRef,
    access: OrgAccess = Depends(org_member(Policy("users:read", partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """One user of the organization."""
    return service.member_out(await _member(access, user, session))


@router.patch("/{user}", response_model=UserOut, responses=problems(401, 403, 404, 409, 422))
async def update_user(
    user: UserRef,
    payload: UserUpdate,
    access: OrgAccess = Depends(org_member(Policy("users:update", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Change a user's profile (email and verification only for accounts no other organization shares)."""
    member = await _member(access, user, session)
    await service.update(session, access.actor, access.org, member, payload)
    return service.member_out(member)


@router.delete("/{user}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409))
async def delete_user(
    user: UserRef,
    access: OrgAccess = Depends(org_member(Policy("users:delete", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Remove the user from the organization; the account goes too when it belongs nowhere else."""
    await memberships.remove(session, access.actor, access.org, await _member(access, user, session))


@router.post("/{user}/disable", response_model=UserOut, responses=problems(401, 403, 404, 409))
async def disable_user(
    user: UserRef,
    access: OrgAccess = Depends(org_member(Policy("users:disable", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Disable the user here (and the account, when it belongs nowhere else); effective on the next request."""
    member = await _member(access, user, session)
    await memberships.disable(session, access.actor, access.org, member)
    return service.member_out(member)


@router.post("/{user}/enable", response_model=UserOut, responses=problems(401, 403, 404))
async def enable_user(
    user: UserRef,
    access: OrgAccess = Depends(org_member(Policy("users:disable", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Enable a disabled user again."""
    member = await _member(access, user, session)
    await memberships.enable(session, access.actor, access.org, member)
    return service.member_out(member)


@router.put("/{user}/roles", response_model=UserOut, responses=problems(401, 403, 404, 409, 422))
async def set_roles(
    user: UserRef,
    payload: RolesUpdate,
    access: OrgAccess = Depends(org_member(Policy("users:roles", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Replace the roles the user holds here (names or ids); effective on the next request."""
    member = await _member(access, user, session)
    await memberships.set_roles(session, access.actor, access.org, member, payload.roles)
    return service.member_out(member)


@router.post("/{user}/password", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422))
async def set_password(
    user: UserRef,
    payload: PasswordSet,
    access: OrgAccess = Depends(org_member(Policy("users:set_password", partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> None:
    """Set the user's password, optionally requiring a change at next login; their sessions end."""
    member = await _member(access, user, session)
    await service.set_password(session, access.actor, access.org, member, payload, runtime.passwords)
