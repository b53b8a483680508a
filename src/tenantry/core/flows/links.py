"""Mailed one-time links: sending one, and spending one that sets a password.

Invitations, password resets and email verification all mail the user a link to a hosted page and record
who sent it; the two that set a password then spend it the same way, proving the mailbox.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.flows import ownership
from tenantry.core.flows.context import (
    DeadToken,
    Flows,
    acting_as,
    check_new_password,
    ensure_differs_from_current,
    send_email,
)
from tenantry.core.mfa import stepup
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service as users
from tenantry.core.users.models import User


@dataclass(frozen=True)
class MailedLink:
    """One kind of mailed link: its token's purpose, the hosted page it opens, its email, its audit action."""

    purpose: str
    page: str
    template: str
    sent_action: str


async def mail_link(
    session: AsyncSession,
    flows: Flows,
    actor: Actor,
    org: Organization | None,
    user: User,
    kind: MailedLink,
    ttl: int,
    details: dict[str, Any] | None = None,
    *,
    void_older: bool = True,
) -> None:
    """Mail ``user`` a link of ``kind`` with a new token (an earlier one of that kind stops working; an
    account created in this transaction has none, and its caller skips looking: ``void_older=False``).
    An account gets a few of each kind an hour, whoever asks (``RateLimited`` past them): nobody can have
    one address flooded with mail."""
    await flows.mailed_links.admit_mailed_link(user.id, kind.purpose)
    org_id = org.id if org else None
    issued = await onetime.issue(
        session, kind.purpose, user, ttl, org_id=org_id, mailed=True, details=details, void_older=void_older
    )
    link = flows.page_url(kind.page, token=issued.token)
    await send_email(session, flows, kind.template, user, org, link, ttl)
    record_for_user(session, actor, kind.sent_action, user.id, org_id=org_id)


def record_by_holder(session: AsyncSession, actor: Actor, found: Redeemable, action: str) -> None:
    """Audit what a spent link did as done by its user, in the organization it was issued in."""
    user = found.user
    record_for_user(session, acting_as(actor, user), action, user.id, org_id=found.row.org_id)


async def set_password_by_link(
    session: AsyncSession,
    flows: Flows,
    actor: Actor,
    found: Redeemable | None,
    token: str,
    password: str,
    *,
    action: str,
    replaces_forgotten: bool = False,
    removes_one_factor_enrolments: bool = False,
) -> User:
    """Spend the link ``found`` for ``token`` to set ``password``, checked before it is spent. The mailbox is
    proven, so the address is verified; the account's second factors stay (whoever holds the mailbox does not
    pass them), but for the link of a factor's notice (``removes_one_factor_enrolments``): the factors made on one
    factor go (``stepup.forget_one_factor_enrolments``). A reset (``replaces_forgotten``) must choose a password
    other than the current one and no longer has to change it."""
    if found is None:
        raise DeadToken()
    await check_new_password(session, found.user, password)
    if replaces_forgotten:
        await ensure_differs_from_current(flows, found.user, password)
    if await onetime.redeem(session, found.row.purpose, token) is None:
        raise DeadToken()
    user = found.user
    await users.store_password(session, user, password, flows.passwords)
    if replaces_forgotten:
        user.password_change_required = False
    user.email_verified = True
    if removes_one_factor_enrolments:  # before the proof: the account may hold no factor any more
        await stepup.forget_one_factor_enrolments(session, acting_as(actor, user), user)
    await ownership.prove_by_mailbox(session, user)
    await session.flush()
    record_by_holder(session, actor, found, action)
    return user
