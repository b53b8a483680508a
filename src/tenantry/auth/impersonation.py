"""Impersonation: a short-lived access token to act as another member of an organization.

The token carries the impersonator in its ``act`` claim (RFC 8693) and is bound to the organization it
was issued in: it acts there only (404 elsewhere, and it lists no other organization), comes without a
refresh token, and routes whose policy forbids impersonation answer 403 to it. Nobody impersonates a
user holding a permission they lack, nor a platform admin unless they are one. The token stops working
(401) when either account is disabled or deleted or ends its sessions, when the impersonator signs out of
the session they minted it from, and when the impersonator's membership in the organization is disabled,
removed or no longer holds ``users:impersonate`` (``core.tokens.impersonation``, on every request).
Every change made with it is audited with both identities; the impersonation itself in every organization
the account belongs to.
"""

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import access_tokens
from tenantry.core.actor import Actor
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE
from tenantry.core.memberships.service import Member, ensure_may_manage, record_for_account
from tenantry.core.orgs.models import Organization
from tenantry.core.users.models import USER_ACTIVE
from tenantry.errors import Conflict
from tenantry.runtime import Runtime


class ImpersonationToken(BaseModel):
    access_token: str
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(description="Seconds until the token expires; it cannot be refreshed.")
    user_id: str = Field(description="The user the token acts as.")
    impersonator_id: str = Field(description="The caller, named in the token's `act` claim.")
    org_id: str = Field(description="The only organization the token acts in.")


async def impersonate(
    session: AsyncSession,
    runtime: Runtime,
    actor: Actor,
    org: Organization,
    member: Member,
    *,
    impersonator_session_id: str | None,
) -> ImpersonationToken:
    assert actor.user_id is not None  # the route's policy admits users only
    if member.user.id == actor.user_id:
        raise Conflict("you cannot impersonate yourself")
    ensure_may_manage(actor, member)
    if member.user.status != USER_ACTIVE or member.membership.status != MEMBERSHIP_ACTIVE:
        raise Conflict("only an active member can be impersonated")
    ttl = runtime.settings.impersonation_token_ttl_seconds
    token = await access_tokens.issue(
        runtime.keyring,
        runtime.settings,
        member.user.id,
        session_id=None,
        impersonator_id=actor.user_id,
        impersonator_session_id=impersonator_session_id,
        org_id=org.id,
        ttl_seconds=ttl,
    )
    # Every organization the account belongs to hears of it, not only the one the token acts in.
    await record_for_account(session, actor, "user.impersonated", org, member.account, {"expires_in": ttl})
    return ImpersonationToken(
        access_token=token, expires_in=ttl, user_id=member.user.id, impersonator_id=actor.user_id, org_id=org.id
    )
