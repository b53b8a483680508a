"""Invitations: an account created without a password gets a link to set one, which activates it."""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.clients.destinations import AppDestination
from tenantry.core.flows.context import Flows
from tenantry.core.flows.links import MailedLink, mail_link, set_password_by_link
from tenantry.core.memberships.service import Member, ensure_may_manage
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import INVITATION
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.users import repository as accounts
from tenantry.core.users.models import User
from tenantry.errors import Conflict
from tenantry.i18n import N_

INVITATION_LINK = MailedLink(INVITATION, "activate", "invitation", "user.invitation_sent")


async def send_invitation(
    session: AsyncSession,
    flows: Flows,
    actor: Actor,
    org: Organization,
    user: User,
    destination: AppDestination | None = None,
    *,
    new_account: bool = False,
) -> None:
    """Mail ``user`` a link to set their first password; an earlier invitation stops working (an account
    created in this transaction, ``new_account``, has none to look for). With ``destination``
    (``core.clients.destinations``) the activated user continues into that app's sign-in."""
    if user.password_hash is not None:
        raise Conflict(N_("the user has already set a password; send a password reset instead"))
    details = destination.details() if destination is not None else None
    ttl = flows.settings.invitation_ttl_seconds
    await mail_link(session, flows, actor, org, user, INVITATION_LINK, ttl, details, void_older=not new_account)


async def send_invitation_to_member(
    session: AsyncSession,
    flows: Flows,
    actor: Actor,
    org: Organization,
    member: Member,
    destination: AppDestination | None = None,
) -> None:
    """An administrator's new invitation for a member of ``org``: only one they may manage."""
    ensure_may_manage(actor, member)
    await send_invitation(session, flows, actor, org, member.user, destination)


async def send_invitations(
    session: AsyncSession, flows: Flows, actor: Actor, org: Organization, user_ids: list[str]
) -> int:
    """Invite each of the accounts just created without a password (an import's rows); how many were mailed."""
    invited = await accounts.get_many(session, user_ids)
    for user in invited:
        await send_invitation(session, flows, actor, org, user)
    return len(invited)


async def find_invitation(session: AsyncSession, token: str) -> Redeemable | None:
    """The invitation behind a link, if it can still be accepted (nothing is spent)."""
    found = await onetime.find(session, INVITATION, token)
    return found if found is not None and found.user.password_hash is None else None


async def accept_invitation(session: AsyncSession, flows: Flows, actor: Actor, token: str, password: str) -> User:
    """Set the first password through an invitation link: the account is active and its address verified."""
    found = await find_invitation(session, token)
    return await set_password_by_link(session, flows, actor, found, token, password, action="user.activated")
