"""Password resets: a mailed link to a page that sets a new password.

A request by address (``POST /auth/password-reset``) only writes a job to the outbox; the worker looks
the account up and mails the link. The request itself does the same work whether or not the account
exists, so neither its answer nor its timing tells.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.flows import ownership
from tenantry.core.flows.context import (
    DeadToken,
    Flows,
    acting_as,
    check_new_password,
    ensure_differs_from_current,
    organizations_of,
    send_email,
)
from tenantry.core.memberships.service import Member, ensure_may_manage
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import PASSWORD_RESET
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import PASSWORD_RESET_REQUEST
from tenantry.core.users import repository as user_rows
from tenantry.core.users import service as users
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.errors import Conflict
from tenantry.i18n import N_


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
    await send_reset(session, flows, actor, orgs[0] if len(orgs) == 1 else None, user)


async def send_reset(session: AsyncSession, flows: Flows, actor: Actor, org: Organization | None, user: User) -> None:
    """Mail ``user`` a link to choose a new password; an earlier reset link stops working."""
    ttl = flows.settings.password_reset_ttl_seconds
    issued = await onetime.issue(session, PASSWORD_RESET, user, ttl, org_id=org.id if org else None, mailed=True)
    link = flows.page_url("reset-password", token=issued.token)
    await send_email(session, flows, "password_reset", user, org, link, ttl)
    org_id = org.id if org else None
    record(session, actor, "user.password_reset_sent", org_id=org_id, target_type="user", target_id=user.id)


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
    if found is None:
        raise DeadToken()
    await check_new_password(session, found.user, password)
    await ensure_differs_from_current(flows, found.user, password)
    if await onetime.redeem(session, PASSWORD_RESET, token) is None:
        raise DeadToken()
    user = found.user
    await users.store_password(session, user, password, flows.passwords)
    user.password_change_required = False
    user.email_verified = True
    await ownership.prove_by_mailbox(session, user)
    await session.flush()
    org_id = found.row.org_id
    record(session, acting_as(actor, user), "user.password_reset", org_id=org_id, target_type="user", target_id=user.id)
    return user
