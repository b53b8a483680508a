"""How an account joins an organization: the one rule every surface that attaches accounts calls.

An account that already exists joins another organization only with its consent. Attaching it (by
email or id, on any surface) makes an ``invited`` membership that waits for the owner's answer
(``consent_pending``): the owner is mailed a link to accept or decline, and can answer on the "My
account" page too. Until then the membership grants nothing, the organization sees only the account's
email (``service.email_only``) and changes nothing of it. Platform admins attach directly. A partner
acting in its customer's organization attaches no account at all. Requests and answers are audited in
the inviting organization and in every organization the account has joined.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.flows.context import DeadToken, Flows, send_email
from tenantry.core.memberships import repository
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, MEMBERSHIP_DISABLED, MEMBERSHIP_INVITED, Membership
from tenantry.core.memberships.service import Member, create, record_for_account
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import MEMBERSHIP_CONSENT
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.core.users import repository as users
from tenantry.core.users.models import User
from tenantry.core.users.schemas import MemberAdd, UserCreate
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, NotFound, PermissionDenied
from tenantry.i18n import N_

PARTNER_REFUSED = "a partner organization cannot add existing accounts to its customer's organization"


def ensure_not_partner(actor: Actor) -> None:
    """A partner acting in its customer's organization attaches no account (its own, its members', anyone's)."""
    if actor.partner_org_id is not None:
        raise PermissionDenied(PARTNER_REFUSED)


async def add(session: AsyncSession, actor: Actor, org: Organization, payload: MemberAdd, flows: Flows) -> Member:
    """Attach an existing account (by id or email) to the organization.

    By email, an address no account has yet gets a new account, invited as ``users.create`` invites
    (the answer has the same status and shape either way: no one learns whether an address has an
    account). By id, an unknown id is 404.
    """
    ensure_not_partner(actor)
    granted = await roles.resolve(session, org.id, payload.roles or [DEFAULT_ROLE.name])
    roles.ensure_grantable(actor, granted)
    if payload.user_id is not None:
        user = await users.get_live(session, payload.user_id)
        if user is None:
            raise NotFound("user not found")
        return await attach(session, actor, org, user, granted, flows)
    from tenantry.core.users import service as accounts  # the accounts service attaches through this module

    account = UserCreate(email=payload.email or "", roles=payload.roles)
    return await accounts.create(session, actor, org, account, flows.passwords, invite_with=flows)


async def attach(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    user: User,
    granted: list[Role],
    flows: Flows,
    *,
    always_ask: bool = False,
) -> Member:
    """Make the existing account ``user`` a member: directly for a platform admin (unless ``always_ask``: an
    operator's bulk import), else an invitation the account's owner must accept (mailed to them, in their
    language). 409 when it is a member (or invited) already."""
    ensure_not_partner(actor)
    if await repository.get(session, org.id, user.id) is not None:
        raise Conflict(N_("the user is already a member of this organization"))
    roles.ensure_grantable(actor, granted)
    if actor.platform_admin and not always_ask:
        membership = await create(session, org, user, granted)
        record(session, actor, "member.added", org_id=org.id, target_type="user", target_id=user.id)
        return Member(user, membership)
    membership = await create(session, org, user, granted, consent_pending=True)
    ttl = flows.settings.invitation_ttl_seconds
    details = {"membership_id": membership.id}
    issued = await onetime.issue(
        session, MEMBERSHIP_CONSENT, user, ttl, org_id=org.id, mailed=True, details=details, void_older=False
    )
    link = flows.page_url("join", token=issued.token)
    await send_email(session, flows, "membership_consent", user, org, link, ttl)
    await _audit(session, actor, "member.attach_requested", org, user)
    return Member(user, membership)


async def _audit(session: AsyncSession, actor: Actor, action: str, org: Organization, user: User) -> None:
    """One event in the inviting organization and one in each organization the account has joined."""
    await record_for_account(session, actor, action, org, user)


@dataclass(frozen=True)
class Invitation:
    """An organization waiting for the account's consent."""

    membership: Membership
    org: Organization
    locale: str | None = None
    """The invited account's own language (known where a mailed link names the invitation)."""


async def pending_for(session: AsyncSession, user: User) -> list[Invitation]:
    """The invitations the account has not answered, oldest first."""
    found = []
    for membership in await repository.for_user(session, user.id):
        org = await orgs.get_by_ref(session, membership.org_id) if membership.consent_pending else None
        if org is not None:
            found.append(Invitation(membership, org))
    return sorted(found, key=lambda invitation: (invitation.membership.created_at, invitation.membership.id))


async def _pending(session: AsyncSession, user: User, org_ref: str) -> Invitation:
    org = await orgs.get_by_ref(session, org_ref)
    membership = await repository.get(session, org.id, user.id) if org is not None else None
    if org is None or membership is None or not membership.consent_pending:
        raise NotFound("no invitation from this organization")
    return Invitation(membership, org)


async def answer(session: AsyncSession, actor: Actor, user: User, org_ref: str, *, accept: bool) -> Organization:
    """The account's owner (``actor`` acts as them) accepts or declines the invitation of ``org_ref``."""
    if actor.impersonator_id is not None:
        raise PermissionDenied("an impersonated session cannot answer an invitation")
    invitation = await _pending(session, user, org_ref)
    membership = invitation.membership
    if accept:
        membership.consent_pending = False
        if membership.status != MEMBERSHIP_DISABLED:  # an organization may have invited it disabled
            membership.status = MEMBERSHIP_ACTIVE if user.password_hash else MEMBERSHIP_INVITED
        membership.updated_at = utcnow()
        await session.flush()
    else:
        await session.delete(membership)
        await session.flush()
    action = "member.consent_accepted" if accept else "member.consent_declined"
    await _audit(session, actor, action, invitation.org, user)
    return invitation.org


async def find_link(session: AsyncSession, token: str) -> Invitation | None:
    """The invitation a mailed link answers, while it can still be answered (nothing is spent)."""
    found = await onetime.find(session, MEMBERSHIP_CONSENT, token)
    membership_id = found.row.details.get("membership_id") if found is not None else None
    membership = await repository.by_id(session, membership_id) if isinstance(membership_id, str) else None
    if found is None or membership is None or not membership.consent_pending:
        return None
    org = await orgs.get_by_ref(session, membership.org_id)
    return None if org is None else Invitation(membership, org, found.user.locale)


async def answer_link(session: AsyncSession, actor: Actor, token: str, *, accept: bool) -> Organization:
    """Accept or decline through the mailed link (proof of the mailbox); the link works once."""
    invitation = await find_link(session, token)
    redeemed = await onetime.redeem(session, MEMBERSHIP_CONSENT, token) if invitation is not None else None
    if invitation is None or redeemed is None:
        raise DeadToken()
    as_user = Actor(user_id=redeemed.user.id, request_id=actor.request_id, client_ip=actor.client_ip)
    return await answer(session, as_user, redeemed.user, invitation.org.id, accept=accept)
