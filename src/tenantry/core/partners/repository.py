from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership
from tenantry.core.orgs.models import Organization, live_org
from tenantry.core.partners.models import PartnerLink


async def get(session: AsyncSession, customer_org_id: str, partner_org_id: str) -> PartnerLink | None:
    statement = (
        select(PartnerLink)
        .where(PartnerLink.customer_org_id == customer_org_id, PartnerLink.partner_org_id == partner_org_id)
        .options(selectinload(PartnerLink.role))
    )
    return (await session.scalars(statement)).first()


async def page(
    session: AsyncSession, org_id: str, *, granted_by_org: bool, after: str | None, limit: int
) -> list[tuple[PartnerLink, Organization]]:
    """Links the organization granted (or, with ``granted_by_org`` false, was granted), each with the live
    organization at the other end, in link id order."""
    own, other = (
        (PartnerLink.customer_org_id, PartnerLink.partner_org_id)
        if granted_by_org
        else (PartnerLink.partner_org_id, PartnerLink.customer_org_id)
    )
    statement = (
        select(PartnerLink, Organization)
        .join(Organization, Organization.id == other)
        .where(own == org_id, live_org())
        .options(selectinload(PartnerLink.role))
        .order_by(PartnerLink.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(PartnerLink.id > after)
    return [(link, org) for link, org in await session.execute(statement)]


async def acting_links(
    session: AsyncSession, customer_org_id: str, user_id: str
) -> list[tuple[PartnerLink, Membership]]:
    """Links into ``customer_org_id`` from live organizations where the user is an active member, oldest first."""
    statement = (
        select(PartnerLink, Membership)
        .join(
            Membership,
            (Membership.org_id == PartnerLink.partner_org_id)
            & (Membership.user_id == user_id)
            & (Membership.status == MEMBERSHIP_ACTIVE),
        )
        .join(Organization, Organization.id == PartnerLink.partner_org_id)
        .where(PartnerLink.customer_org_id == customer_org_id, live_org())
        .options(selectinload(PartnerLink.role), selectinload(Membership.roles))
        .order_by(PartnerLink.id)
    )
    return [(link, membership) for link, membership in await session.execute(statement)]


async def links_to(session: AsyncSession, partner_org_id: str) -> list[PartnerLink]:
    """The links granted to ``partner_org_id``, oldest first."""
    statement = select(PartnerLink).where(PartnerLink.partner_org_id == partner_org_id).order_by(PartnerLink.id)
    return list(await session.scalars(statement))


async def delete_all_of(session: AsyncSession, org_id: str) -> None:
    """Remove the links an organization granted and those granted to it."""
    await session.execute(
        delete(PartnerLink).where(or_(PartnerLink.customer_org_id == org_id, PartnerLink.partner_org_id == org_id))
    )
