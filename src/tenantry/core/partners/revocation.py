"""Revoking a partner link, and the report of what the partner leaves behind.

The link's end stops the partner's members acting here from their next request. What they did while
acting stays: the accounts they created or added here remain members. The audit log names the partner
of every change made through a link, so revoking reports those accounts (in the answer and in the
``partner.revoked`` event) and, when asked in the same call, disables them here (and their account too
when this organization is its only one, so a backdoor account no longer signs in).

A partner that handled how a member signs in (made a magic link, set the password or the email address,
imported or reset second factors) may hold a way in as that member that outlives the link: a browser
session opened with the magic link, or a link not spent yet. Revoking ends every session of those
members (in bulk: ``end_sessions_in_bulk``) and the magic links not spent yet (voided first, so that one
being redeemed meanwhile is waited for or refused), and reports them.

A member whose address is still the one the partner set is worse off: the address is the partner's, so any
reset (the member's own "forgot password" included) mails the partner a way back in as them. The partner set
it when its latest change was made through the link, or as an account the partner controlled by then (one it
brought in, or whose sign-in it handled, the member's own included: it may hold its password, and change the
address as them with no partner named). Revoking disables those members whatever ``disable_created`` says
(and their account, when this organization is its only one), and reports them apart; the customer gives each
an address of the member's own, then enables them. A change the customer made since (an administrator, a key,
a platform admin) clears it.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit import repository as audit
from tenantry.core.audit.models import AuditEvent
from tenantry.core.audit.service import record
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import MAGIC_LINK
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.partners import repository
from tenantry.core.partners.models import PartnerLink
from tenantry.core.partners.schemas import OrgBrief, PartnerAccount, PartnerRevocation
from tenantry.core.tokens.service import end_sessions_in_bulk
from tenantry.core.users.service import displayed_status
from tenantry.errors import NotFound

REPORT_LIMIT = 500
_BROUGHT_IN = ("user.created", "member.added")
_EVERY = 2**31 - 1
_PAGE = 1000
"""Members read, held and changed at a time: a partner may have brought in tens of thousands."""
_READDRESSED = "user.email_changed"
_SIGN_IN_HANDLED = ("user.magic_link_created", "user.password_set", "user.email_changed", "mfa.enrolled", "mfa.reset")
_CONTROLLED = _BROUGHT_IN + _SIGN_IN_HANDLED
"""What the partner did to an account that lets it act as that account: made it, or handled how it signs in."""


async def revoke(
    session: AsyncSession, actor: Actor, org: Organization, partner_ref: str, *, disable_created: bool = False
) -> PartnerRevocation:
    """Remove the link; report (and with ``disable_created``, disable) the accounts the partner brought in."""
    partner = await orgs.get_by_ref(session, partner_ref)
    link = await repository.get(session, org.id, partner.id) if partner is not None else None
    if partner is None or link is None:
        raise NotFound("partner not found")
    return await _ended(session, actor, org, partner, link, disable_created=disable_created)


async def end_links_to(session: AsyncSession, actor: Actor, partner: Organization) -> None:
    """``partner`` is being deleted: each customer's link to it ends as a revocation by that customer would
    (recorded there, sessions and links the partner handed out ended, members it re-addressed disabled), except
    that what it brought in is only reported, the customer having asked for nothing. The platform does it (the
    deleting caller has no rights in the customers), under ``actor``'s request."""
    on_behalf = Actor(platform_admin=True, request_id=actor.request_id, client_ip=actor.client_ip)
    for link in await repository.links_to(session, partner.id):
        customer = await orgs.get_by_ref(session, link.customer_org_id)
        if customer is not None:
            await _ended(session, on_behalf, customer, partner, link, disable_created=False)


async def _ended(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    partner: Organization,
    link: PartnerLink,
    *,
    disable_created: bool,
) -> PartnerRevocation:
    """Remove ``link`` and clean up after the partner in ``org`` (see the module). The organization's row is
    locked first, as a change of a member takes it (the lock order: ``orgs.Hold``): an import's batch that read its
    rights through the link holds it (``access.actor_now``), so the revocation waits for that batch to commit and
    reports what it made, and the next batch waits for the revocation and finds the link gone."""
    await memberships.hold_owners(session, org)  # before any member it disables
    await session.delete(link)
    await session.flush()
    handled = await audit.targets_of_partner(session, org.id, partner.id, _SIGN_IN_HANDLED, _EVERY)
    await onetime.void_all(session, handled, MAGIC_LINK)  # before any account's row: a redemption may hold one
    brought_in, disabled, more = await _brought_in(session, actor, org, partner.id, disable=disable_created)
    readdressed = await _readdressed(session, org, partner.id)
    disabled.extend(await _disabled(session, actor, org, [member.user.id for member in readdressed]))
    signed_out = await _signed_out(session, org, handled)
    record(
        session,
        actor,
        "partner.revoked",
        org_id=org.id,
        target_type="org",
        target_id=partner.id,
        details={
            "created_accounts": [member.user.id for member in brought_in],
            "disabled": disabled[:REPORT_LIMIT],
            "readdressed_accounts": [member.user.id for member in readdressed[:REPORT_LIMIT]],
            "signed_out_accounts": [member.user.id for member in signed_out[:REPORT_LIMIT]],
        },
    )
    return PartnerRevocation(
        partner_org=OrgBrief(id=partner.id, slug=partner.slug, name=partner.name),
        created_accounts=[_account(m) for m in brought_in],
        disabled=disabled[:REPORT_LIMIT],
        readdressed_accounts=[_account(m) for m in readdressed[:REPORT_LIMIT]],
        signed_out_accounts=[_account(m) for m in signed_out[:REPORT_LIMIT]],
        truncated=more or max(len(disabled), len(readdressed), len(handled)) > REPORT_LIMIT,
    )


async def _brought_in(
    session: AsyncSession, actor: Actor, org: Organization, partner_id: str, *, disable: bool
) -> tuple[list[Member], list[str], bool]:
    """The members the partner created or added here (the first ``REPORT_LIMIT``), the ids of those disabled and
    whether there were more to list. With ``disable`` every one of them is disabled, ``_PAGE`` at a time: the
    report's cap bounds what is listed, never what is cleaned up (the link is gone, so this call is the only one
    that can)."""
    limit = _EVERY if disable else REPORT_LIMIT + 1
    ids = await audit.targets_of_partner(session, org.id, partner_id, _BROUGHT_IN, limit)
    listed: list[Member] = []
    disabled: list[str] = []
    for start in range(0, len(ids), _PAGE):
        found = await memberships.get_all(session, org, ids[start : start + _PAGE], lock=disable)
        if disable:
            disabled.extend(await memberships.disable_all(session, actor, org, found))
        listed.extend(found[: REPORT_LIMIT + 1 - len(listed)])
    return listed[:REPORT_LIMIT], disabled, len(listed) > REPORT_LIMIT or len(ids) > REPORT_LIMIT


async def _readdressed(session: AsyncSession, org: Organization, partner_id: str) -> list[Member]:
    """The members whose latest address change (in any organization) is the partner's (``_partners``): of those
    whose sign-in it handled here, and of those whose address an account it controls changed here."""
    controlled = await audit.firsts_of_partner(session, org.id, partner_id, _CONTROLLED)
    handled = await audit.targets_of_partner(session, org.id, partner_id, _SIGN_IN_HANDLED, _EVERY)
    by_its_accounts = await audit.targets_by_partners_accounts(session, org.id, partner_id, _CONTROLLED, _READDRESSED)
    candidates = list(dict.fromkeys([*handled, *by_its_accounts]))
    latest = await audit.latest_of_all(session, candidates, _READDRESSED)
    theirs = [
        user_id for user_id in candidates if user_id in latest and _partners(latest[user_id], partner_id, controlled)
    ]
    return await memberships.get_all(session, org, theirs)


async def _disabled(session: AsyncSession, actor: Actor, org: Organization, user_ids: list[str]) -> list[str]:
    """Disable the members among ``user_ids`` (``memberships.disable_all``: unless a rule keeps them, the caller's
    own account, the last owner, someone above), ``_PAGE`` at a time; the ids of those disabled."""
    disabled = []
    for start in range(0, len(user_ids), _PAGE):
        held = await memberships.get_all(session, org, user_ids[start : start + _PAGE], lock=True)
        disabled.extend(await memberships.disable_all(session, actor, org, held))
    return disabled


async def _signed_out(session: AsyncSession, org: Organization, handled: list[str]) -> list[Member]:
    """End every session of the members among ``handled`` (every one of them, not only those the report lists),
    ``_PAGE`` at a time and in bulk (``end_sessions_in_bulk``); the first ``REPORT_LIMIT`` + 1 of them."""
    listed: list[Member] = []
    for start in range(0, len(handled), _PAGE):
        found = await memberships.get_all(session, org, handled[start : start + _PAGE])
        await end_sessions_in_bulk(session, [member.user for member in found])
        listed.extend(found[: REPORT_LIMIT + 1 - len(listed)])
    return listed


def _partners(change: AuditEvent, partner_id: str, controlled: dict[str, datetime]) -> bool:
    """Whether the partner made ``change``: through its link, or as an account it controlled by then (one it
    brought in, or whose sign-in it handled: it may hold its password), the member's own included. A change
    through another partner's link, or by anyone else (the customer: an administrator, a key, a platform admin),
    is not its."""
    if change.partner_org_id is not None:
        return change.partner_org_id == partner_id
    since = controlled.get(change.actor_user_id or "")
    return since is not None and change.created_at >= since


def _account(member: Member) -> PartnerAccount:
    return PartnerAccount(
        id=member.user.id, email=member.user.email, status=displayed_status(member.user, member.membership)
    )
