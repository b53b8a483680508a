"""Revoking a partner link, and the report of what the partner leaves behind.

The link's end stops the partner's members acting here from their next request. What they did while
acting stays: the accounts they created or added here remain members. The audit log names the partner
of every change made through a link, so revoking reports those accounts (in the answer and in the
``partner.revoked`` event) and, when asked in the same call, disables them here (and their account too
when this organization is its only one, so a backdoor account no longer signs in).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit import repository as audit
from tenantry.core.audit.service import record
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.models import MEMBERSHIP_DISABLED
from tenantry.core.memberships.service import Member
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.partners import repository
from tenantry.core.partners.schemas import OrgBrief, PartnerAccount, PartnerRevocation
from tenantry.core.users.service import displayed_status
from tenantry.errors import Conflict, NotFound, PermissionDenied

REPORT_LIMIT = 500
_BROUGHT_IN = ("user.created", "member.added")


async def revoke(
    session: AsyncSession, actor: Actor, org: Organization, partner_ref: str, *, disable_created: bool = False
) -> PartnerRevocation:
    """Remove the link; report (and with ``disable_created``, disable) the accounts the partner brought in."""
    partner = await orgs.get_by_ref(session, partner_ref)
    link = await repository.get(session, org.id, partner.id) if partner is not None else None
    if partner is None or link is None:
        raise NotFound("partner not found")
    await session.delete(link)
    await session.flush()
    ids = await audit.targets_of_partner(session, org.id, partner.id, _BROUGHT_IN, REPORT_LIMIT + 1)
    found = [await _member(session, org, user_id) for user_id in ids[:REPORT_LIMIT]]
    brought_in = [member for member in found if member is not None]
    disabled = [m.user.id for m in brought_in if disable_created and await _disabled(session, actor, org, m)]
    record(
        session,
        actor,
        "partner.revoked",
        org_id=org.id,
        target_type="org",
        target_id=partner.id,
        details={"created_accounts": [member.user.id for member in brought_in], "disabled": disabled},
    )
    return PartnerRevocation(
        partner_org=OrgBrief(id=partner.id, slug=partner.slug, name=partner.name),
        created_accounts=[
            PartnerAccount(id=m.user.id, email=m.user.email, status=displayed_status(m.user, m.membership))
            for m in brought_in
        ],
        disabled=disabled,
        truncated=len(ids) > REPORT_LIMIT,
    )


async def _member(session: AsyncSession, org: Organization, user_id: str) -> Member | None:
    try:
        return await memberships.get(session, org, user_id)
    except NotFound:  # removed since
        return None


async def _disabled(session: AsyncSession, actor: Actor, org: Organization, member: Member) -> bool:
    """Disable the member unless a rule keeps them (the caller's own account, the last owner, someone above)."""
    if member.membership.status == MEMBERSHIP_DISABLED:
        return False
    try:
        await memberships.disable(session, actor, org, member)
    except (Conflict, PermissionDenied):  # (refused before anything changed)
        return False
    return True
