from sqlalchemy import BindParameter, ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.memberships.models import Membership
from tenantry.core.orgs.models import ORG_DELETED, Organization


def matches_ref(ref: str | BindParameter[str]) -> ColumnElement[bool]:
    """A live organization whose id or slug is ``ref`` (an id never matches a slug: slugs cannot look like ids)."""
    return and_((Organization.id == ref) | (Organization.slug == ref), Organization.status != ORG_DELETED)


async def get_by_ref(session: AsyncSession, ref: str, *, for_update: bool = False) -> Organization | None:
    """A live organization by id or by slug."""
    statement = select(Organization).where(matches_ref(ref))
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    statement = select(Organization.id).where(Organization.slug == slug, Organization.status != ORG_DELETED)
    return (await session.scalar(statement)) is not None


async def list_page(
    session: AsyncSession, *, member_id: str | None, after: str | None, limit: int
) -> list[Organization]:
    """Live organizations by id; only those ``member_id`` belongs to when given."""
    statement = select(Organization).where(Organization.status != ORG_DELETED)
    if member_id is not None:
        statement = statement.join(Membership, Membership.org_id == Organization.id).where(
            Membership.user_id == member_id, Membership.consent_pending.is_(False)
        )
    if after is not None:
        statement = statement.where(Organization.id > after)
    return list(await session.scalars(statement.order_by(Organization.id).limit(limit)))
