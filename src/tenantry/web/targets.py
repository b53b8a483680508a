"""``org_target``: the dependency of every route that acts on one thing its path names in an organization.

The policy is checked first: the organization and the caller's rights in it (a caller without the
permission learns nothing about what exists, and no secret or lookup is touched before). Only then is the
thing loaded; ``load`` raises ``NotFound`` for one the organization does not hold or the caller cannot see,
so a foreign id is a 404 whatever the body.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, Target, org_member
from tenantry.core.memberships import service as memberships
from tenantry.runtime import session_of

T = TypeVar("T")
Load = Callable[[AsyncSession, OrgAccess, str], Awaitable[T]]


def org_target(
    policy: Policy | Callable[..., Awaitable[OrgAccess]], load: Load[T], *, ref: Any
) -> Callable[..., Awaitable[T]]:
    """Dependency: the access ``policy`` grants (or the surface's own access dependency), then ``load`` of the
    path parameter ``ref`` (an ``Annotated[str, Path(alias=…)]`` naming it)."""
    access_dependency = org_member(policy) if isinstance(policy, Policy) else policy

    async def dependency(request: Request, reference: ref, access: OrgAccess = Depends(access_dependency)) -> T:
        return await load(session_of(request), access, reference)

    return dependency


async def member(session: AsyncSession, access: OrgAccess, user_id: str) -> Target:
    """The organization's member ``user_id`` (404 for anyone else), held to be changed unless the route only
    reads (``memberships.target``)."""
    return Target(access, await memberships.target(session, access.org, user_id))
