"""Who may call what: the caller (401), the organization ``{orgId}`` and the caller's rights there (403,
or 404 where the operation documents one), then the user ``{userId}`` among its members (404)."""

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, Target, org_member
from tenantry.auth.principal import Principal, current_principal
from tenantry.core.fields import storable
from tenantry.errors import NotFound, OrganizationNotFound
from tenantry.web.targets import member, org_target

ORG_PARAM = "orgId"
USER_ID = re.compile(r"^[0-9a-f]{24}$")


async def _org_ref_storable(request: Request, _: Principal = Depends(current_principal)) -> None:
    """An organization reference no stored id or slug can equal (a NUL character) is unknown, unlooked-up."""
    try:
        storable(request.path_params[ORG_PARAM])
    except ValueError:
        raise OrganizationNotFound("organization not found") from None


def org_access(policy: Policy) -> Callable[..., Awaitable[OrgAccess]]:
    """The organization ``{orgId}`` (its id or slug) and the caller's rights in it, checked against ``policy``."""
    member_of = org_member(policy, path_param=ORG_PARAM)

    async def dependency(_: None = Depends(_org_ref_storable), access: OrgAccess = Depends(member_of)) -> OrgAccess:
        return access

    return dependency


UserId = Annotated[str, Path(alias="userId", description="The user's id")]


async def _live_member(session: AsyncSession, access: OrgAccess, user_id: str) -> Target:
    if not USER_ID.fullmatch(user_id):
        raise NotFound("user not found")
    return await member(session, access, user_id)


def org_user(policy: Policy) -> Callable[..., Awaitable[Target]]:
    """``org_access``, then the live member ``{userId}``: 404 for anyone else, a deleted user included."""
    return org_target(org_access(policy), _live_member, ref=UserId)
