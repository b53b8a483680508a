"""``/organizations/{organizationId}/users``: the vendor's operations on the core's members and roles."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from tenantry.auth.policy import OrgAccess, Policy, Target
from tenantry.core.memberships import directory as members
from tenantry.core.memberships import joining
from tenantry.core.memberships import service as memberships
from tenantry.core.users import directory
from tenantry.core.users.schemas import MemberAdd
from tenantry.dialects.akinon import translate
from tenantry.dialects.akinon.access import org_access, org_user
from tenantry.dialects.akinon.errors import documented
from tenantry.dialects.akinon.listing import PageRequest, member_criteria, sort_keys
from tenantry.dialects.akinon.schemas import (
    AddedMemberDoc,
    MemberDoc,
    OrgUserCreate,
    OrgUserRolesUpdate,
    UserDoc,
    UserPage,
)
from tenantry.errors import Conflict, FieldError, InvalidInput, NotFound
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/organizations/{organizationId}/users", tags=["user"], route_class=UnitOfWorkRoute)

Page = Annotated[int | None, Query(description="Current page number (default 1; below 1 reads as 1)")]
Limit = Annotated[int | None, Query(description="Per page: default 10, at most 100; 0 or less: totals only")]
Sort = Annotated[str | None, Query(description="Fields, `-` for descending: `firstName -createdAt`")]


@router.get(
    "",
    operation_id="getOrgUsers",
    response_model=UserPage,
    response_model_exclude_unset=True,
    responses=documented(400, 401, 403),
)
async def list_users(
    session: DbSession,
    access: OrgAccess = Depends(org_access(Policy("users:read", partner=True))),
    username: Annotated[
        str | None,
        # The vendor's longest username (User.username): a longer term matches nobody.
        Query(max_length=255, description="Partial match on the email, any letter case"),
    ] = None,
    sort: Sort = None,
    limit: Limit = None,
    page: Page = None,
    status: Annotated[str | None, Query(description="1 active, 0 disabled")] = None,
    role: Annotated[str | None, Query(description="Role ID: only users holding it")] = None,
) -> UserPage:
    """Get organizations users"""
    wanted = PageRequest.of(page, limit)
    criteria = member_criteria(username, status, role)
    if criteria is None:
        return wanted.answer([], 0)
    total, found = await members.page_at(
        session, access.org.id, criteria, sort_keys(sort), offset=wanted.offset, limit=wanted.limit
    )
    return wanted.answer([translate.member_user_doc(member) for member in found], total)


@router.post(
    "",
    operation_id="createOrgUser",
    status_code=status.HTTP_201_CREATED,
    response_model=AddedMemberDoc,
    response_model_exclude_unset=True,
    responses=documented(400, 401, 403),
)
async def add_user(
    payload: OrgUserCreate,
    session: DbSession,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_access(Policy("users:create", impersonation=False, partner=True))),
) -> AddedMemberDoc:
    """Create a organization user"""
    try:
        member = await joining.add(
            session, access.actor, access.org, MemberAdd(user_id=payload.user, roles=payload.roles), runtime.flows
        )
    except NotFound as error:
        raise InvalidInput([FieldError("user", "no account has this id")]) from error
    except Conflict as error:
        raise InvalidInput([FieldError("user", error.detail)]) from error
    return translate.added_member_doc(member, access.org)


@router.get(
    "/search/availables",
    operation_id="searchOrgUsers",
    response_model=UserPage,
    response_model_exclude_unset=True,
    responses=documented(400, 401, 403),
)
async def search_available_users(
    session: DbSession,
    access: OrgAccess = Depends(org_access(Policy("users:create", partner=True))),
    text: Annotated[str | None, Query(description="Partial match on email, first or last name")] = None,
    sort: Sort = None,
    limit: Limit = None,
    page: Page = None,
) -> UserPage:
    """Search organizations users"""
    wanted = PageRequest.of(page, limit)
    total, accounts = await directory.addable_page(
        session, access.actor, access.org, text or None, sort_keys(sort), offset=wanted.offset, limit=wanted.limit
    )
    return wanted.answer([translate.account_doc(user) for user in accounts], total)


@router.get(
    "/{userId}",
    operation_id="getOrgUser",
    response_model=MemberDoc,
    response_model_exclude_unset=True,
    responses=documented(400, 401, 403, 404),
)
async def get_user(
    session: DbSession, target: Target = Depends(org_user(Policy("users:read", partner=True)))
) -> MemberDoc:
    """Get a organization user"""
    org = target.access.org
    organization = translate.organization_doc(org, await directory.organization_owner(session, org))
    return translate.member_doc(target.member, organization)


@router.put(
    "/{userId}",
    operation_id="updateOrgUser",
    response_model=UserDoc,
    response_model_exclude_unset=True,
    responses=documented(400, 401, 403, 404),
)
async def update_user_roles(
    payload: OrgUserRolesUpdate,
    session: DbSession,
    target: Target = Depends(org_user(Policy("users:roles", impersonation=False, partner=True))),
) -> UserDoc:
    """Update a organization user"""
    access = target.access
    try:
        await memberships.set_roles(session, access.actor, access.org, target.member, payload.roles)
    except Conflict as error:
        raise InvalidInput([FieldError("roles", error.detail)]) from error
    return translate.member_user_doc(target.member)


@router.delete(
    "/{userId}",
    operation_id="deleteOrgUser",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=documented(400, 401, 403, 404),
)
async def delete_user(
    session: DbSession, target: Target = Depends(org_user(Policy("users:delete", impersonation=False, partner=True)))
) -> Response:
    """Delete a organization user"""
    await memberships.remove(session, target.access.actor, target.access.org, target.member)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
