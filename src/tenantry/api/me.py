"""The calling user: who they are, their organizations, their password."""

from datetime import datetime

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tenantry.api.errors import problems
from tenantry.auth.policy import Policy, caller
from tenantry.auth.principal import Principal, current_principal
from tenantry.core.actor import Actor
from tenantry.core.memberships.models import Membership
from tenantry.core.orgs.models import Organization, live_org
from tenantry.core.users import password_change
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.core.users.schemas import PasswordChange
from tenantry.errors import Unauthenticated
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/me", tags=["me"], route_class=UnitOfWorkRoute)
me_policy = caller(Policy(users_only=True))
password_policy = caller(Policy(users_only=True, impersonation=False, own_account=True))


class MyMembership(BaseModel):
    org_id: str
    org_slug: str
    org_name: str
    roles: list[str]
    status: str


class MeOut(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str
    email_verified: bool
    platform_admin: bool
    locale: str | None
    created_at: datetime
    last_login_at: datetime | None
    password_change_required: bool
    memberships: list[MyMembership]


async def load_me(session: AsyncSession, actor: Actor) -> User:
    user = await users.get_live(session, actor.user_id or "")
    if user is None:
        raise Unauthenticated("the account no longer exists")
    return user


@router.get("", response_model=MeOut, responses=problems(401, 403))
async def get_me(
    session: DbSession, actor: Actor = Depends(me_policy), principal: Principal = Depends(current_principal)
) -> MeOut:
    """The calling user and the organizations they belong to (an impersonation token: only its own)."""
    user = await load_me(session, actor)
    statement = (
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Membership.user_id == user.id, live_org())
        .options(selectinload(Membership.roles))
        .order_by(Organization.slug)
    )
    if principal.org_id is not None or principal.reaches_no_org:  # (an application's token for none: none)
        statement = statement.where(Organization.id == principal.org_id)
    rows = await session.execute(statement)
    return MeOut(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        email_verified=user.email_verified,
        platform_admin=user.platform_admin,
        locale=user.locale,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        password_change_required=user.password_change_required,
        memberships=[
            MyMembership(
                org_id=org.id,
                org_slug=org.slug,
                org_name=org.name,
                roles=[role.name for role in membership.roles],
                status=membership.status,
            )
            for membership, org in rows
        ],
    )


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 422))
async def change_password(
    payload: PasswordChange, session: DbSession, runtime: AppRuntime, actor: Actor = Depends(password_policy)
) -> None:
    """Change your own password; every existing session ends, so sign in again."""
    user = await load_me(session, actor)
    await password_change.change_password(session, runtime.flows, actor, user, payload)
