"""How an account joins an organization: the one rule every surface that attaches accounts calls.

An account that already exists joins another organization only with its consent. Attaching it (by
email or id, on any surface) makes an ``invited`` membership that waits for the owner's answer
(``consent_pending``): the owner is mailed a link to accept or decline, and can answer on the "My
account" page too. Until then the membership grants nothing, the organization sees only the account's
email (``service.email_only``) and changes nothing of it. Platform admins attach directly an account whose
credentials are proven its owner's, ending what its organization handed out as accepting does. A partner
acting in its customer's organization attaches no account at all. Requests and answers are audited in
the inviting organization and in every organization the account has joined.

An invitation is the consent of the owner of the address it was sent to. The organization holding the
account alone may change its address, and hands out magic links into it: a new address withdraws the
invitations waiting on the old one (``withdraw_for_new_address``), a session a magic link opened cannot accept
or decline (the mailed link must), and accepting ends the sessions magic links opened before.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.credentials.policy import policy_for
from tenantry.core.flows import ownership
from tenantry.core.flows.context import DeadToken, Flows, check_new_password, send_email
from tenantry.core.flows.magic_links import SIGN_IN_AMR, opened_by_magic_link
from tenantry.core.memberships import repository
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, MEMBERSHIP_DISABLED, MEMBERSHIP_INVITED, Membership
from tenantry.core.memberships.service import Member, create, record_for_account, withdraw_invitations
from tenantry.core.mfa import repository as factors
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import MAGIC_LINK, MEMBERSHIP_CONSENT
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import grants as resource_grants
from tenantry.core.resources.grants import Grant
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.core.sessions import service as browser_sessions
from tenantry.core.users import repository as users
from tenantry.core.users.models import User
from tenantry.core.users.schemas import MemberAdd, UserCreate
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from tenantry.i18n import N_

PARTNER_REFUSED = "a partner organization cannot add existing accounts to its customer's organization"
PROOF_NEEDED = (
    "the account's credentials were not chosen through its mailbox; accept with the link mailed to its address"
)


class MailboxProofNeeded(PermissionDenied):
    """Accepting needs the mailed join link (the account's credentials are not proven its owner's): a new link
    was mailed, and kept although the answer is an error."""

    def __init__(self, org: Organization) -> None:
        super().__init__(PROOF_NEEDED, keep_changes=True)
        self.org = org


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
    scoped: Sequence[Grant] = (),
    always_ask: bool = False,
) -> Member:
    """Make the existing account ``user`` a member: directly for a platform admin (unless ``always_ask``: an
    operator's bulk import), else an invitation the account's owner must accept (mailed to them, in their
    language). ``granted`` and the grants on resources ``scoped`` are what the membership holds, an invitation
    once accepted (``grants.grant_chosen``). 409 when it is a member (or invited) already.

    A platform admin's attach is an acceptance the owner did not make: it ends what the organization holding the
    account alone handed out (``_joined``), and an account whose credentials are not proven its owner's
    (``User.credentials_proven``: another organization may know its password) is invited all the same, so that
    its owner takes it over through the mailed link (a platform admin's own account: no organization sets its
    credentials)."""
    ensure_not_partner(actor)
    if await repository.get(session, org.id, user.id) is not None:
        raise Conflict(N_("the user is already a member of this organization"))
    roles.ensure_grantable(actor, [*granted, *(grant.role for grant in scoped)])
    if actor.platform_admin and not always_ask and (user.credentials_proven or user.platform_admin):
        member = Member(user, await create(session, org, user, granted))
        await _joined(session, user)
        record_for_user(session, actor, "member.added", user.id, org_id=org.id)
    else:
        member = Member(user, await create(session, org, user, granted, consent_pending=True))
        await _mail_link(session, flows, org, user, member.membership)
        await _audit(session, actor, "member.attach_requested", org, user)
    await resource_grants.grant_chosen(session, actor, org, member, scoped)
    return member


async def _joined(session: AsyncSession, user: User) -> None:
    """The account joins another organization (it accepts, or a platform admin attaches it): what the organization
    holding it alone handed out ends. Its magic links die, every session they opened ends (the link's holder may
    keep one) with the codes such sessions were given, and every second step of a sign-in still to answer and
    every factor set up and not confirmed goes (begun by such a session maybe)."""
    await onetime.void(session, user, MAGIC_LINK)
    await browser_sessions.end_signed_in_by(session, user.id, SIGN_IN_AMR)
    await factors.delete_unfinished(session, user.id)


async def _mail_link(
    session: AsyncSession, flows: Flows, org: Organization, user: User, membership: Membership
) -> None:
    """Mail the account's address a link that accepts or declines ``org``'s invitation."""
    ttl = flows.settings.invitation_ttl_seconds
    details = {"membership_id": membership.id}
    issued = await onetime.issue(
        session, MEMBERSHIP_CONSENT, user, ttl, org_id=org.id, mailed=True, details=details, void_older=False
    )
    link = flows.page_url("join", token=issued.token)
    await send_email(session, flows, "membership_consent", user, org, link, ttl)


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
    proof_needed: bool = False
    """Accepting through the mailed link first replaces the account's credentials (``core.flows.ownership``)."""


async def pending_for(session: AsyncSession, user: User) -> list[Invitation]:
    """The invitations the account has not answered, oldest first."""
    found = []
    for membership in await repository.for_user(session, user.id):
        org = await orgs.get_by_ref(session, membership.org_id) if membership.consent_pending else None
        if org is not None:
            found.append(Invitation(membership, org))
    return sorted(found, key=lambda invitation: (invitation.membership.created_at, invitation.membership.id))


async def _pending(session: AsyncSession, user: User, org_ref: str) -> Invitation:
    """The invitation, held to be answered before anything of the account is written, as the lock order says
    (``orgs.Hold``: membership rows, then accounts); 404 once it is withdrawn (an orphan's, ``delete_orphans``)."""
    org = await orgs.get_by_ref(session, org_ref)
    if org is not None:
        await repository.lock(session, org.id, user.id)
    membership = await repository.get(session, org.id, user.id) if org is not None else None
    if org is None or membership is None or not membership.consent_pending:
        raise NotFound("no invitation from this organization")
    return Invitation(membership, org)


async def answer(
    session: AsyncSession,
    actor: Actor,
    user: User,
    org_ref: str,
    *,
    accept: bool,
    flows: Flows | None = None,
    signed_in_by: list[str] | None = None,
) -> Organization:
    """The account's owner (``actor`` acts as them) accepts or declines the invitation of ``org_ref``.

    Signed in (``flows`` given: "My account", whose session's sign-in proved ``signed_in_by``), an account whose
    credentials are not proven its owner's (``User.credentials_proven``) cannot accept: whoever created it may
    know its password, so the join link is mailed again (``MailboxProofNeeded``) and accepting goes through it
    (``answer_link``). A session a magic link opened answers nothing, accept or decline, the same way: the
    account's organization was handed the link, and must not answer another's invitation in the owner's name.
    Accepting ends every session a magic link opened (the link's holder may keep one), spends the authorization
    codes such sessions were given, and drops every second step of a sign-in still to answer and every factor
    set up and not confirmed yet."""
    if actor.impersonator_id is not None:
        raise PermissionDenied("an impersonated session cannot answer an invitation")
    invitation = await _pending(session, user, org_ref)
    membership = invitation.membership
    if opened_by_magic_link(signed_in_by) or (accept and not user.credentials_proven):
        if flows is None:
            raise PermissionDenied(PROOF_NEEDED)
        await _mail_link(session, flows, invitation.org, user, membership)
        await _audit(session, actor, "member.consent_proof_mailed", invitation.org, user)
        raise MailboxProofNeeded(invitation.org)
    if accept:
        await _joined(session, user)
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
    proof_needed = not found.user.credentials_proven
    return None if org is None else Invitation(membership, org, found.user.locale, proof_needed)


async def answer_link(
    session: AsyncSession, flows: Flows, actor: Actor, token: str, *, accept: bool, password: str | None = None
) -> Organization:
    """Accept or decline through the mailed link (proof of the mailbox); the link works once.

    Accepting for an account whose credentials are not proven its owner's needs ``password``: the owner of the
    address takes the account over (``ownership.take_over``: the new password, under the inviting
    organization's rules too, replaces the old; second factors, sessions and links end), audited in every
    organization the account joined."""
    invitation = await find_link(session, token)
    if invitation is None:
        raise DeadToken()
    user = await users.get_live(session, invitation.membership.user_id)
    taking_over = accept and invitation.proof_needed
    if taking_over and not password:
        raise InvalidInput([FieldError("password", "choose a new password", code="required")])
    if taking_over and user is not None and password:
        await check_new_password(session, user, password)
        context = [user.email, user.first_name, user.last_name, invitation.org.name, invitation.org.slug]
        policy_for(invitation.org).check(password, context=context)
    redeemed = await onetime.redeem(session, MEMBERSHIP_CONSENT, token)
    if redeemed is None:
        raise DeadToken()
    try:
        await _pending(session, redeemed.user, invitation.org.id)  # held before the account changes hands
    except NotFound:
        raise DeadToken() from None
    as_user = Actor(user_id=redeemed.user.id, request_id=actor.request_id, client_ip=actor.client_ip)
    if taking_over:
        await ownership.take_over(session, flows, as_user, invitation.org, redeemed.user, password or "")
    org = await answer(session, as_user, redeemed.user, invitation.org.id, accept=accept)
    if taking_over:
        await _audit(session, as_user, "user.ownership_proven", org, redeemed.user)
    return org


async def withdraw_for_new_address(session: AsyncSession, actor: Actor, user: User) -> None:
    """The account's address changed (``users.email_change``): the invitations other organizations sent to the
    old one are withdrawn, and their links die. Whoever changed it (the organization holding the account alone,
    which may also choose where its links go) must not answer for the owner of the address invited.
    Audited in each inviting organization (naming no one of the organization that changed it); it may invite the
    new address."""
    await onetime.void(session, user, MEMBERSHIP_CONSENT)
    waiting = await repository.lock_memberships_of(session, [user.id], invitations=True)
    await withdraw_invitations(session, actor, waiting)
    await session.flush()
