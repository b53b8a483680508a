"""Sessions of tokens issued to clients: what each is for (client, user, organization, scope), what the
organization lets the user do there now, and ending them."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.clients.models import ClientGrant, OAuthClient
from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE
from tenantry.core.orgs.models import ORG_DELETED, Organization
from tenantry.core.roles.service import union_permissions
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import OAuthError


@dataclass(frozen=True)
class OrgRights:
    org: Organization
    roles: list[str]
    permissions: list[str]


async def rights_in(session: AsyncSession, org: Organization, user: User) -> OrgRights:
    """The user's roles and permissions in ``org`` now; invalid_grant when not (or no longer) an active member."""
    membership = await memberships.get(session, org.id, user.id)
    if org.status == ORG_DELETED or membership is None or membership.status != MEMBERSHIP_ACTIVE:
        raise OAuthError("invalid_grant", "the user is not an active member of the organization")
    roles = list(membership.roles)
    return OrgRights(org, sorted(role.name for role in roles), sorted(union_permissions(roles)))


async def still_member(session: AsyncSession, org_id: str, user_id: str) -> bool:
    """Whether the user is still an active member of the live organization a token was issued for: once
    removed or disabled there, the token is inactive (introspection, userinfo) as every route refuses it."""
    membership = await memberships.get(session, org_id, user_id)
    if membership is None or membership.status != MEMBERSHIP_ACTIVE:
        return False
    org = await session.get(Organization, org_id)
    return org is not None and org.status != ORG_DELETED


async def start(
    session: AsyncSession,
    *,
    family_id: str,
    client: OAuthClient,
    user: User,
    org: Organization | None,
    scope: str,
    auth_time: datetime,
    browser_session_id: str | None,
    amr: list[str] | None = None,
    parent_family_id: str | None = None,
) -> ClientGrant:
    grant = ClientGrant(
        family_id=family_id,
        client_id=client.id,
        user_id=user.id,
        org_id=org.id if org is not None else None,
        scope=scope,
        auth_time=auth_time,
        browser_session_id=browser_session_id,
        amr=amr,
        parent_family_id=parent_family_id,
    )
    session.add(grant)
    await session.flush()
    return grant


async def find(session: AsyncSession, family_id: str) -> ClientGrant | None:
    return await session.get(ClientGrant, family_id)


async def end_browser_session(session: AsyncSession, browser_session_id: str) -> None:
    """Sign-out of the hosted pages (RP-initiated logout): every token session it started ends too."""
    statement = select(ClientGrant.family_id).where(ClientGrant.browser_session_id == browser_session_id)
    for family_id in list(await session.scalars(statement)):
        await refresh_tokens.revoke_family(session, family_id)


async def end_client_sessions(session: AsyncSession, client_id: str) -> None:
    """Every token session of a client ends (it is being deleted): its users' access tokens stop working at
    once, as after a sign-out, instead of living out their lifetime."""
    families = select(ClientGrant.family_id).where(ClientGrant.client_id == client_id).scalar_subquery()
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
