"""The tenant in the path, the caller's rights there, and the user named by email; telm's two role names."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Path
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, Target, org_member
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.roles.permissions import BUILTIN_BY_NAME, DEFAULT_ROLE, OWNER
from tenantry.dialects.telm.schemas import TelmRole, TelmUser
from tenantry.web.targets import org_target

TENANT = "tenant"
ADMIN = BUILTIN_BY_NAME["admin"]
# telm's role -> the built-in role it is granted as.
GRANTED_AS: dict[str, str] = {"admin": ADMIN.name, "user": DEFAULT_ROLE.name}

UserEmail = Annotated[str, Path(alias="user_email", max_length=320, description="The user's email (any letter case)")]


def tenant_access(policy: Policy) -> Callable[..., Awaitable[OrgAccess]]:
    """The organization ``{tenant}`` (slug or id) and the caller's rights there, checked against ``policy``."""
    return org_member(policy, path_param=TENANT)


async def _member_by_email(session: AsyncSession, access: OrgAccess, email: str) -> Target:
    return Target(access, await memberships.get_by_email(session, access.org, email))


def tenant_user(policy: Policy) -> Callable[..., Awaitable[Target]]:
    """``tenant_access`` and then the member ``{user_email}`` (404 for anyone who is not a member)."""
    return org_target(tenant_access(policy), _member_by_email, ref=UserEmail)


def telm_role(member: Member) -> TelmRole:
    """``admin`` for owners and admins of the tenant, ``user`` for everyone else."""
    return "admin" if {role.id for role in member.roles} & {OWNER.id, ADMIN.id} else "user"


def telm_user(member: Member) -> TelmUser:
    user = member.user
    return TelmUser(
        email=user.email, first_name=user.first_name, id=user.id, last_name=user.last_name, role=telm_role(member)
    )
