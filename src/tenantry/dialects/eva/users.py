"""eva's users: listing, quick search, the caller, create, read, change, activate, delete."""

import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, Target, org_member
from tenantry.core.fields import StorableStr
from tenantry.core.memberships import directory
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.directory import MemberCriteria, SortField, SortKey
from tenantry.core.memberships.service import Member
from tenantry.core.users import listing
from tenantry.dialects.eva import accounts
from tenantry.dialects.eva.errors import errors
from tenantry.dialects.eva.schemas import (
    Activation,
    EvaUser,
    Pageable,
    SortState,
    UserCreate,
    UserPage,
    UserUpdate,
)
from tenantry.dialects.eva.translate import eva_users
from tenantry.errors import NotFound
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.targets import member, org_target

PATH = "/eva-user/org/{orgUUID}"
router = APIRouter(prefix=PATH, tags=["users"], route_class=UnitOfWorkRoute)
ORG = "orgUUID"


def target(policy: Policy, param: str) -> Callable[..., Awaitable[Target]]:
    """Dependency: check ``policy``, then find the user of path parameter ``param`` among the members."""
    ref = Annotated[str, Path(alias=param, max_length=64, description="The user's uuid")]
    return org_target(org_member(policy, path_param=ORG), member, ref=ref)


async def one(session: AsyncSession, access: OrgAccess, member: Member) -> EvaUser:
    return (await eva_users(session, access.actor, access.org, [member]))[0]


_ORDERS: dict[str, SortField] = {"createdAt": "created_at", "name": "name", "email": "email"}


@router.get("/users", response_model=UserPage, responses=errors(401, 403, 404, 422))
async def list_users(
    access: OrgAccess = Depends(org_member(Policy("users:read", partner=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
    page: Annotated[int, Query(ge=0, le=1_000_000, description="Page number, from 0.")] = 0,
    lines_per_page: Annotated[int, Query(alias="linesPerPage", ge=1, le=200, description="Page size.")] = 5,
    order_by: Annotated[Literal["createdAt", "name", "email"], Query(alias="orderBy")] = "createdAt",
    direction: Annotated[Literal["ASC", "DESC", "asc", "desc"], Query()] = "DESC",
    search_terms: Annotated[
        StorableStr, Query(alias="searchTerms", max_length=200, description="Words to find in name or email.")
    ] = "",
) -> UserPage:
    """Users of the organization, a numbered page at a time (a Spring page)."""
    descending = direction.upper() == "DESC"
    field = _ORDERS[order_by]
    total, members = await directory.page_at(
        session,
        access.org.id,
        MemberCriteria(terms=tuple(search_terms.split())),
        [SortKey(field, descending), SortKey("id", descending)],
        offset=page * lines_per_page,
        limit=lines_per_page,
    )
    content = await eva_users(session, access.actor, access.org, members)
    total_pages = math.ceil(total / lines_per_page)
    sort = SortState(sorted=True, unsorted=False, empty=False)
    return UserPage(
        content=content,
        totalPages=total_pages,
        totalElements=total,
        numberOfElements=len(content),
        size=lines_per_page,
        number=page,
        first=page == 0,
        last=page >= total_pages - 1,
        empty=not content,
        sort=sort,
        pageable=Pageable(
            paged=True,
            unpaged=False,
            pageNumber=page,
            pageSize=lines_per_page,
            offset=page * lines_per_page,
            sort=sort,
        ),
    )


@router.get("/users/quicksearch", response_model=list[str], responses=errors(401, 403, 404, 422))
async def quicksearch(
    name: Annotated[StorableStr, Query(min_length=1, max_length=200, description="What was typed so far.")],
    access: OrgAccess = Depends(org_member(Policy("users:read", partner=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many names.")] = 6,
) -> list[str]:
    """Names of users in which the typed text starts a word, alphabetically, at most ``limit``."""
    return await listing.names_starting_with(session, access.org.id, name, limit)


@router.get("/users/identity-provider", response_model=EvaUser, responses=errors(401, 403, 404))
async def identity_provider(
    access: OrgAccess = Depends(org_member(Policy(users_only=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
) -> EvaUser:
    """The user behind the token."""
    if access.actor.user_id is None:
        raise NotFound("user not found")
    return await one(session, access, await memberships.get(session, access.org, access.actor.user_id))


@router.post(
    "/users", response_model=EvaUser, status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422)
)
async def create_user(
    payload: UserCreate,
    access: OrgAccess = Depends(org_member(Policy("users:create", impersonation=False, partner=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> EvaUser:
    """Create a user with an ADMIN role or grants on environments and bots."""
    member = await accounts.create(session, access, payload, runtime.flows)
    return await one(session, access, member)


@router.put("/users/activate", response_model=EvaUser, responses=errors(401, 403, 404, 409, 422))
async def activate(
    payload: Activation,
    access: OrgAccess = Depends(org_member(Policy("users:disable", impersonation=False, partner=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
) -> EvaUser:
    """Activate (or, with ``active: false``, deactivate) a user."""
    member = await memberships.target(session, access.org, payload.uuid)
    if payload.active:
        await memberships.enable(session, access.actor, access.org, member)
    else:
        await memberships.disable(session, access.actor, access.org, member)
    return await one(session, access, member)


@router.get("/users/{userId}", response_model=EvaUser, responses=errors(401, 403, 404))
async def get_user(
    found: Target = Depends(target(Policy("users:read", partner=True), "userId")),
    session: AsyncSession = Depends(get_session),
) -> EvaUser:
    """One user."""
    return await one(session, found.access, found.member)


@router.put("/users/{userId}", response_model=EvaUser, responses=errors(401, 403, 404, 409, 422))
async def update_user(
    payload: UserUpdate,
    found: Target = Depends(target(Policy("users:update", impersonation=False, partner=True), "userId")),
    session: AsyncSession = Depends(get_session),
) -> EvaUser:
    """Change a user's profile, ADMIN role or environment grants."""
    await accounts.update(session, found.access, found.member, payload)
    return await one(session, found.access, found.member)


@router.delete("/users/{userUuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 404, 409))
async def delete_user(
    found: Target = Depends(target(Policy("users:delete", impersonation=False, partner=True), "userUuid")),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Remove a user from the organization (the account goes too when it belongs nowhere else)."""
    await memberships.remove(session, found.access.actor, found.access.org, found.member)
