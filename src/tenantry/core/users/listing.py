"""Name completion over an organization's members, and its owners who could act now.

Pages of members are the member directory's (``core.memberships.directory``).
"""

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships.directory import display_name
from tenantry.core.memberships.models import Membership
from tenantry.core.users.matching import escape_like
from tenantry.core.users.models import User, live_account


def _members_of(org_id: str) -> ColumnElement[bool]:
    return and_(Membership.org_id == org_id, live_account())


async def names_starting_with(session: AsyncSession, org_id: str, typed: str, limit: int) -> list[str]:
    """Distinct member names in which ``typed`` starts a word (read left to right), alphabetically."""
    name = display_name()
    pattern = escape_like(typed.lower())
    lowered = func.lower(name)
    statement = (
        select(name, lowered)
        .select_from(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            _members_of(org_id),
            or_(lowered.like(f"{pattern}%", escape="\\"), lowered.like(f"% {pattern}%", escape="\\")),
        )
        .distinct()
        .order_by(lowered, name)
        .limit(limit)
    )
    return [row[0] for row in await session.execute(statement)]


async def active_owner_ids(session: AsyncSession, org_id: str) -> set[str]:
    """Users who hold the owner role and could act now (the last of them cannot be removed)."""
    return await memberships.active_owner_ids(session, org_id)
