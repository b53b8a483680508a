"""Email verification: a mailed link that marks the address verified."""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.flows.context import DeadToken, Flows
from tenantry.core.flows.links import MailedLink, mail_link, record_by_holder
from tenantry.core.memberships.service import Member, ensure_may_manage
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import EMAIL_VERIFICATION
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import Conflict

VERIFICATION_LINK = MailedLink(EMAIL_VERIFICATION, "verify-email", "email_verification", "user.verification_sent")


async def send_verification(
    session: AsyncSession, flows: Flows, actor: Actor, org: Organization | None, user: User
) -> None:
    """Mail ``user`` a link that proves they receive mail at their address."""
    if user.email_verified:
        raise Conflict("the email address is already verified")
    ttl = flows.settings.email_verification_ttl_seconds
    await mail_link(session, flows, actor, org, user, VERIFICATION_LINK, ttl)


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
    record_by_holder(session, actor, found, "user.email_verified")
    return user
