"""``/v1/org/{orgId}/user``: the vendor's user-controller on the core's users and memberships.

Each operation's policy is the vendor's triple: "Roles Allowed" ADMIN is the native permission for the
change (held by the admin and owner roles), MEMBER is ``users:read`` (held by every built-in role);
"Impersonated User Allowed: False" refuses impersonation tokens; every operation allows partners.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, Target
from tenantry.core.actor import Actor
from tenantry.core.flows import magic_links
from tenantry.core.memberships import directory
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.directory import MemberCriteria, SortKey
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service as users
from tenantry.dialects.saleschat import translate
from tenantry.dialects.saleschat.access import org_access, org_user
from tenantry.dialects.saleschat.errors import NOT_FOUND_TEXTS, documented
from tenantry.dialects.saleschat.schemas import (
    CreateUserReqDto,
    CreateUserRespDto,
    MagicLinkRespDto,
    PaginatedItemGetUserRespDto,
    UserPasswordReqDto,
)
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.headers import NO_STORE
from tenantry.web.routing import UnitOfWorkRoute, writes

PREFIX = "/v1/org/{orgId}/user"
INT32_MAX = 2**31 - 1
MAX_PAGE_SIZE = 1000
"""A larger ``size`` answers this many items, with ``has_more`` telling whether others follow."""

router = APIRouter(prefix=PREFIX, tags=["user-controller"], route_class=UnitOfWorkRoute)

NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post(
    "",
    operation_id="createUserAndAddToOrg",
    response_model=CreateUserRespDto,
    responses=documented(401, 403, 409, 422),
)
async def create_user(
    payload: CreateUserReqDto,
    session: DbSession,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_access(Policy("users:create", impersonation=False, partner=True))),
) -> CreateUserRespDto:
    """Create a user and add it to the org

    The user is a Member, their email counts as confirmed and no email is sent;
    `ask_user_to_update_password_on_login` (default false) makes them change the password at next login.
    """
    member = await users.create(
        session,
        access.actor,
        access.org,
        translate.user_create(payload),
        runtime.passwords,
        flows_for_consent=runtime.flows,
    )
    return CreateUserRespDto(user_id=member.user.id)


@router.post(
    "/{userId}/password/reset",
    operation_id="resetPassword",
    status_code=NO_CONTENT,
    responses=documented(401, 403, 404, 422, not_found=NOT_FOUND_TEXTS["resetPassword"]),
)
async def reset_password(
    payload: UserPasswordReqDto,
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(org_user(Policy("users:set_password", partner=True))),
) -> Response:
    """Reset a users password

    Sets the password; the user must change it at next login and their sessions end.
    """
    access = target.access
    reset = translate.password_reset(payload)
    await users.set_password(session, access.actor, access.org, target.member, reset, runtime.passwords)
    return Response(status_code=NO_CONTENT)


@router.get(
    "/{userId}/magiclink",
    operation_id="generateMagicLink",
    response_model=MagicLinkRespDto,
    responses=documented(401, 403, 404, not_found=NOT_FOUND_TEXTS["generateMagicLink"]),
)
@writes  # the vendor's magic link is a GET that issues a one-time token
async def generate_magic_link(
    response: Response,
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(org_user(Policy("users:magic_link", impersonation=False, partner=True))),
) -> MagicLinkRespDto:
    """Generate a magic link for a user

    A link that signs the user in once, for a short while; no email is sent.
    """
    access = target.access
    link = await magic_links.create_magic_link(session, runtime.flows, access.actor, access.org, target.member)
    response.headers.update(NO_STORE)
    return MagicLinkRespDto(url=link.url)


@router.get(
    "",
    operation_id="getUserListByEmail",
    response_model=PaginatedItemGetUserRespDto,
    responses=documented(401, 403, 422),
)
async def get_users_by_email(
    session: DbSession,
    access: OrgAccess = Depends(org_access(Policy("users:read", partner=True))),
    q: Annotated[
        str,
        Query(
            max_length=319,  # the vendor's longest email (CreateUserReqDto): a longer term matches nobody
            description="Partial match on the email, any letter case; empty: every user",
        ),
    ] = "",
    offset: Annotated[int, Query(ge=0, le=INT32_MAX, description="Users to skip")] = 0,
    size: Annotated[int, Query(ge=0, le=INT32_MAX, description="Users per page (at most 1000 answered)")] = 10,
) -> PaginatedItemGetUserRespDto:
    """Get user by email

    The organization's users whose email contains `q`, ordered by email.
    """
    total, members = await directory.page_at(
        session,
        access.org.id,
        MemberCriteria(email_contains=q or None),
        [SortKey("email")],
        offset=offset,
        limit=min(size, MAX_PAGE_SIZE),
    )
    return PaginatedItemGetUserRespDto(
        items=[translate.user_item(member) for member in members], has_more=offset + len(members) < total
    )


MemberChange = Callable[[AsyncSession, Actor, Organization, Member], Awaitable[None]]


def _status_route(action: str, operation_id: str, permission: str, change: MemberChange, description: str) -> None:
    """``POST /{userId}/{action}``: ``change`` the member under ``permission``; 204, no body."""
    policy = Policy(permission, impersonation=False, partner=True)

    async def change_user(session: DbSession, target: Target = Depends(org_user(policy))) -> Response:
        await change(session, target.access.actor, target.access.org, target.member)
        return Response(status_code=NO_CONTENT)

    router.add_api_route(
        f"/{{userId}}/{action}",
        change_user,
        methods=["POST"],
        name=f"{action}_user",
        operation_id=operation_id,
        status_code=NO_CONTENT,
        responses=documented(401, 403, 404, not_found=NOT_FOUND_TEXTS[operation_id]),
        description=description,
    )


_status_route(
    "delete",
    "deleteUser",
    "users:delete",
    memberships.remove,
    "Delete a user\n\nRemoves the user from the org; the account is deleted when it belongs to no other organization.",
)
_status_route(
    "disable",
    "disableUser",
    "users:disable",
    memberships.disable,
    "Disable a user\n\nThe user can no longer act in the org (nor sign in, when it is their only one); "
    "effective at once.",
)
_status_route(
    "enable",
    "enableUser",
    "users:disable",
    memberships.enable,
    "Enable a user\n\nA disabled user may act in the org again.",
)
