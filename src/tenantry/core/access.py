"""Where a caller's rights in an organization come from: one rule, read again for every request (``auth.policy``)
and for every batch of work that outlives its request (an import, ``core.imports.importer``).

First match wins: a platform admin holds every permission; a member holds those of their roles there (a
disabled or invited membership: refused; an invitation not accepted yet is no membership); a member of a partner
organization who holds ``partners:act`` there holds those of the link's role; anyone else reaches nothing. An API
key holds what its roles permit, in the organization that issued it only.
"""

from dataclasses import dataclass, replace

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.apikeys import service as api_keys
from tenantry.core.apikeys.models import ApiKey
from tenantry.core.memberships import callers
from tenantry.core.memberships.callers import MembershipRights
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership
from tenantry.core.mfa import challenges
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.partners import service as partners
from tenantry.core.partners.models import PartnerLink
from tenantry.core.roles.permissions import ALL_PERMISSIONS
from tenantry.core.roles.service import union_permissions
from tenantry.core.sessions import service as sign_ins
from tenantry.core.users import repository as accounts
from tenantry.core.users.models import USER_ACTIVE
from tenantry.errors import OrganizationNotFound, PermissionDenied, Unauthenticated
from tenantry.settings import Settings


@dataclass(frozen=True)
class Rights:
    permissions: frozenset[str]
    partner_org_id: str | None = None
    """The partner organization the caller acts through; None for a member, a platform admin or a key."""


def key_rights(api_key: ApiKey) -> Rights:
    return Rights(union_permissions(list(api_key.roles)))


async def user_rights(
    session: AsyncSession,
    org: Organization,
    user_id: str,
    *,
    platform_admin: bool,
    membership: MembershipRights | None,
) -> Rights:
    """What the account ``user_id`` may do in ``org``; ``membership`` is its own there (already read).
    ``OrganizationNotFound`` when it reaches the organization in no way; ``PermissionDenied`` for a membership
    that is not active."""
    if platform_admin:
        return Rights(ALL_PERMISSIONS)
    if membership is not None and not membership.consent_pending:  # an invitation not accepted: not a member
        if membership.status != MEMBERSHIP_ACTIVE:
            raise PermissionDenied(f"your membership in this organization is {membership.status}")
        return Rights(membership.permissions)
    partner = await partners.access_for(session, org, user_id)
    if partner is None:
        raise OrganizationNotFound("organization not found")
    return Rights(partner.permissions, partner.partner_org_id)


async def _hold(session: AsyncSession, actor: Actor, org: Organization) -> None:
    """Lock the rows ``actor``'s rights in ``org`` come from until the transaction ends (FOR SHARE: PostgreSQL
    reads without locking, while SQLite's writer holds the whole database already), so that what ends them
    (revoking the partner link, removing, disabling or demoting the member here or in the partner organization,
    revoking the key) waits for whatever this transaction writes under them, and then sees it: a revocation's
    report lists the accounts an import's batch made, however close the two came.

    One order, so that no two transactions wait for each other: the partner organizations' memberships (deleting
    an organization removes them before it ends its links), the organization's row (``orgs.Hold.MEMBERS``, as a
    foreign key to it takes anyway; a change of a member here and a revocation take it first too, ``orgs.Hold``),
    then the membership here, the links into it, the key."""
    for statement in _rights_rows(actor, org):
        await session.execute(statement)


def _rights_rows(actor: Actor, org: Organization) -> list[Select[str]]:
    """The statements locking the rows ``_hold`` names, in its order."""
    organization = orgs.held(org.id, orgs.Hold.MEMBERS)
    if actor.api_key_id is not None:
        return [organization, select(ApiKey.id).where(ApiKey.id == actor.api_key_id).with_for_update(read=True)]
    user_id = actor.user_id
    linked = and_(PartnerLink.partner_org_id == Membership.org_id, PartnerLink.customer_org_id == org.id)
    in_partners = select(Membership.id).join(PartnerLink, linked).where(Membership.user_id == user_id)
    here = select(Membership.id).where(Membership.org_id == org.id, Membership.user_id == user_id)
    member_of = select(Membership.org_id).where(Membership.user_id == user_id)
    links = select(PartnerLink.id).where(
        PartnerLink.customer_org_id == org.id, PartnerLink.partner_org_id.in_(member_of)
    )
    return [
        in_partners.with_for_update(read=True, of=Membership),
        organization,
        here.with_for_update(read=True),
        links.with_for_update(read=True),
    ]


async def actor_now(session: AsyncSession, settings: Settings, actor: Actor, org: Organization) -> Actor:
    """``actor`` as a request of theirs in ``org`` would be authorized now: its rights read again, never more than
    it started with (a token issued to an application was narrowed then). Raises as that request would be refused
    (``OrganizationNotFound``, ``PermissionDenied``) once the account or key is gone or disabled, the membership or
    partner link has ended, or the organization is deleted; ``Unauthenticated`` once the sign-in session its
    credential belongs to has ended (``Actor.sign_in``), or lacks the second factor a sign-in of its account needs
    now (``challenges.lacks_required_factor``: an organization turned ``mfa_required`` on, the owner enrolled one),
    as its browser's next page and its refresh tokens are refused. The rows those rights come from stay locked until the
    transaction ends (``_hold``): what ends them waits for what it writes. The operator (no account, no key: the
    CLI's ``SYSTEM``) keeps its rights."""
    if actor.user_id is None and actor.api_key_id is None:
        return actor
    await _hold(session, actor, org)
    if actor.api_key_id is not None:
        found, _membership = await callers.org_and_membership(session, org.id, None)
        if found is None:
            raise OrganizationNotFound("organization not found")
        rights = key_rights(await api_keys.get(session, org, actor.api_key_id))
        return replace(actor, permissions=rights.permissions & actor.permissions)
    assert actor.user_id is not None
    user = await accounts.get_live(session, actor.user_id)
    if user is None or user.status != USER_ACTIVE:
        raise OrganizationNotFound("organization not found")
    found, membership = await callers.org_and_membership(session, org.id, user.id)
    if found is None:
        raise OrganizationNotFound("organization not found")
    platform_admin = actor.platform_admin and user.platform_admin
    rights = await user_rights(session, org, user.id, platform_admin=platform_admin, membership=membership)
    if actor.sign_in is not None:
        sign_in = await sign_ins.sign_in_now(session, user, actor.sign_in)
        if sign_in.ended:
            raise Unauthenticated("the session has ended")
        if sign_in.proven is not None and await challenges.lacks_required_factor(
            session, settings, user, sign_in.proven
        ):
            raise Unauthenticated("a second factor is required now: sign in again")
    return replace(
        actor,
        platform_admin=platform_admin,
        permissions=rights.permissions & actor.permissions,
        partner_org_id=rights.partner_org_id,
    )
