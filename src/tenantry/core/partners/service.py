"""Partner organizations: a customer organization lets another one's members act in it with one role.

Members of the partner organization who hold ``partners:act`` there act in the customer organization with
the role of the link, on routes whose policy allows partners. Membership wins: someone who is a member of
the customer organization acts as that member, never as a partner. When several partner organizations of
the caller are linked, the oldest link applies.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.partners import repository
from tenantry.core.partners.models import PartnerLink
from tenantry.core.partners.schemas import OrgBrief, PartnerGrant, PartnerLinkOut, RoleBrief
from tenantry.core.roles import service as roles
from tenantry.errors import Conflict, FieldError, InvalidInput, NotFound
from tenantry.i18n import N_

ACT = "partners:act"


@dataclass(frozen=True)
class PartnerAccess:
    partner_org_id: str
    permissions: frozenset[str]


async def access_for(session: AsyncSession, customer: Organization, user_id: str) -> PartnerAccess | None:
    """How ``user_id`` may act in ``customer`` as a partner, or None when no link lets them."""
    for link, membership in await repository.acting_links(session, customer.id, user_id):
        if ACT in roles.union_permissions(list(membership.roles)):
            return PartnerAccess(link.partner_org_id, roles.permissions_of(link.role))
    return None


def link_out(link: PartnerLink, customer: Organization, partner: Organization) -> PartnerLinkOut:
    return PartnerLinkOut(
        id=link.id,
        customer_org=OrgBrief(id=customer.id, slug=customer.slug, name=customer.name),
        partner_org=OrgBrief(id=partner.id, slug=partner.slug, name=partner.name),
        role=RoleBrief(id=link.role.id, name=link.role.name),
        created_at=link.created_at,
    )


async def grant(session: AsyncSession, actor: Actor, org: Organization, payload: PartnerGrant) -> PartnerLinkOut:
    partner = await orgs.get_by_ref(session, payload.partner_org)
    if partner is None:
        raise InvalidInput([FieldError("partner_org", N_("no such organization"))])
    if partner.id == org.id:
        raise InvalidInput([FieldError("partner_org", N_("an organization cannot be its own partner"))])
    try:
        role = await roles.get(session, org.id, payload.role)
    except NotFound:
        raise InvalidInput([FieldError("role", f"unknown role {payload.role!r}")]) from None
    roles.ensure_grantable(actor, [role])
    if await repository.get(session, org.id, partner.id) is not None:
        raise Conflict(f"{partner.slug!r} is already a partner; revoke the link to change its role")
    link = PartnerLink(customer_org_id=org.id, partner_org_id=partner.id, role=role, created_by=actor.user_id)
    session.add(link)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(f"{partner.slug!r} is already a partner") from error
    record(
        session,
        actor,
        "partner.granted",
        org_id=org.id,
        target_type="org",
        target_id=partner.id,
        details={"role": role.name},
    )
    return link_out(link, org, partner)


async def page(
    session: AsyncSession, org: Organization, *, customers: bool, after: str | None, limit: int
) -> tuple[list[PartnerLinkOut], str | None]:
    """The organization's partners (or, with ``customers``, the organizations it is a partner of)."""
    rows = await repository.page(session, org.id, granted_by_org=not customers, after=after, limit=limit + 1)
    items = [link_out(link, other, org) if customers else link_out(link, org, other) for link, other in rows[:limit]]
    return items, (rows[limit - 1][0].id if len(rows) > limit else None)
