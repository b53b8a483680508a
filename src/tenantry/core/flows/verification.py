"""Email verification: a mailed link that marks the address verified."""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.flows.context import DeadToken, Flows, acting_as, send_email
from tenantry.core.memberships.service import Member, ensure_may_manage
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import EMAIL_VERIFICATION
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import Conflict


async def send_verification(
    session: AsyncSession, flows: Flows, actor: Actor, org: Organization | None, user: User
) -> None:
    """Mail ``user`` a link that proves they receive mail at their address."""
    if user.email_verified:
        raise Conflict("the email address is already verified")
    ttl = flows.settings.email_verification_ttl_seconds
    issued = await onetime.issue(session, EMAIL_VERIFICATION, user, ttl, org_id=org.id if org else None, mailed=True)
    link = flows.page_url("verify-email", token=issued.token)
    await send_email(session, flows, "email_verification", user, org, link, ttl)
    org_id = org.id if org else None
    record(session, actor, "user.verification_sent", org_id=org_id, target_type="user", target_id=user.id)


async def send_verification_to_member(
    session: AsyncSession, flows: Flows, actor: Actor, org: Organization, member: Member
) -> None:
    """An administrator's verification mail for a member of ``org``: only one they may manage."""
    ensure_may_manage(actor, member)
    await send_verification(session, flows, actor, org, member.user)


async def find_verification(session: AsyncSession, token: str) -> Redeemable | None:
    return await onetime.find(session, EMAIL_VERIFICATION, token)


async def confirm_email(session: AsyncSession, actor: Actor, token: str) -> User:
    found = await onetime.redeem(session, EMAIL_VERIFICATION, token)
    if found is None:
        raise DeadToken()
    user = found.user
    user.email_verified = True
    user.updated_at = utcnow()
    await session.flush()
    record(
        session,
        acting_as(actor, user),
        "user.email_verified",
        org_id=found.row.org_id,
        target_type="user",
        target_id=user.id,
    )
    return user
