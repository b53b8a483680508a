"""Password resets: a mailed link to a page that sets a new password.

The notice of a second factor made on one factor (``core.mfa.notice``) mails another such link: it also removes
the factors made on one factor (``undo_factor_added``); an ordinary reset keeps every factor.

A request by address (``POST /auth/password-reset``) only writes a job to the outbox; the worker looks
the account up and mails the link. The request itself does the same work whether or not the account
exists, so neither its answer nor its timing tells.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.flows.context import Flows, organizations_of
from tenantry.core.flows.links import MailedLink, mail_link, set_password_by_link
from tenantry.core.memberships.service import Member, ensure_may_manage
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import FACTOR_ADDED, PASSWORD_RESET
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import PASSWORD_RESET_REQUEST
from tenantry.core.users import repository as user_rows
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.errors import Conflict, RateLimited
from tenantry.i18n import N_

RESET_LINK = MailedLink(PASSWORD_RESET, "reset-password", "password_reset", "user.password_reset_sent")


def request_reset(session: AsyncSession, actor: Actor, email: str) -> None:
    """Queue a reset for whoever owns ``email`` (maybe nobody)."""
    payload = {"email": email, "request_id": actor.request_id, "client_ip": actor.client_ip}
    outbox.enqueue(session, PASSWORD_RESET_REQUEST, payload)


async def handle_reset_request(session: AsyncSession, flows: Flows, payload: dict[str, Any]) -> None:
    """The worker's half of a request by address: mail the link when an active account has it."""
    user = await user_rows.get_by_email(session, str(payload.get("email", "")))
    if user is None or user.status != USER_ACTIVE:
        return
    orgs = await organizations_of(session, user)
    actor = Actor(request_id=payload.get("request_id"), client_ip=payload.get("client_ip"))
    try:
        await send_reset(session, flows, actor, orgs[0] if len(orgs) == 1 else None, user)
    except RateLimited:  # the account had its share of reset links this hour; the requester is told nothing
        return


async def send_reset(session: AsyncSession, flows: Flows, actor: Actor, org: Organization | None, user: User) -> None:
    """Mail ``user`` a link to choose a new password; an earlier reset link stops working."""
    ttl = flows.settings.password_reset_ttl_seconds
    await mail_link(session, flows, actor, org, user, RESET_LINK, ttl)


async def send_reset_to_member(
    session: AsyncSession, flows: Flows, actor: Actor, org: Organization, member: Member
) -> None:
    """An administrator's reset for a member of ``org``: only one they may manage, whose account is active."""
    ensure_may_manage(actor, member)
    if member.user.status != USER_ACTIVE:
        raise Conflict(N_("the account is disabled"))
    await send_reset(session, flows, actor, org, member.user)


async def find_reset(session: AsyncSession, token: str) -> Redeemable | None:
    return await onetime.find(session, PASSWORD_RESET, token)


async def complete_reset(session: AsyncSession, flows: Flows, actor: Actor, token: str, password: str) -> User:
    """Set the new password: every session ends, and the mailbox is proven, so the address is verified."""
    found = await find_reset(session, token)
    return await set_password_by_link(
        session, flows, actor, found, token, password, action="user.password_reset", replaces_forgotten=True
    )


async def find_factor_added(session: AsyncSession, token: str) -> Redeemable | None:
    return await onetime.find(session, FACTOR_ADDED, token)


async def undo_factor_added(session: AsyncSession, flows: Flows, actor: Actor, token: str, password: str) -> User:
    """Through the link of a factor's notice: set a new password (every session ends, as a reset), remove the
    factors made on one factor, and end the account's other notice links (a new password does not end them)."""
    found = await find_factor_added(session, token)
    user = await set_password_by_link(
        session,
        flows,
        actor,
        found,
        token,
        password,
        action="user.password_reset",
        replaces_forgotten=True,
        removes_one_factor_enrolments=True,
    )
    await onetime.void(session, user, FACTOR_ADDED)
    return user
