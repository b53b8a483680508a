"""Members by offset pages in a chosen order, and name completion: what page-numbered APIs need.

The native API pages by keyset (``repository.member_page``); vendors such as eva number their pages and
sort by a column, which needs a count and an offset.
"""

from typing import Literal

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships.models import Membership
from tenantry.core.memberships.repository import as_seen
from tenantry.core.memberships.service import Member
from tenantry.core.users.models import USER_DELETED, User

MemberOrder = Literal["createdAt", "name", "email"]


def display_name() -> ColumnElement[str]:
    """First and last name joined by a space, as one name (eva keeps one ``name``); empty for an account that
    has not accepted to join (its organization sees its email only)."""
    return as_seen(func.trim(User.first_name + literal(" ") + User.last_name), literal(""))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _members_of(org_id: str) -> ColumnElement[bool]:
    return and_(Membership.org_id == org_id, User.status != USER_DELETED)


def _matches_every_term(terms: list[str]) -> ColumnElement[bool]:
    conditions = []
    for term in terms:
        pattern = f"%{_escape_like(term.lower())}%"
        conditions.append(
            or_(
                func.lower(display_name()).like(pattern, escape="\\"), func.lower(User.email).like(pattern, escape="\\")
            )
        )
    return and_(*conditions)


async def offset_page(
    session: AsyncSession,
    org_id: str,
    *,
    search: str,
    order: MemberOrder,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Member], int]:
    """One page of members (roles loaded) and the number of members matching ``search`` in all.

    ``search`` is split on whitespace; each term must appear in the name or the email (any letter case).
    """
    condition = _members_of(org_id)
    if terms := search.split():
        condition = and_(condition, _matches_every_term(terms))
    base = select(User, Membership).join(Membership, Membership.user_id == User.id).where(condition)
    total = int(
        await session.scalar(
            select(func.count()).select_from(User).join(Membership, Membership.user_id == User.id).where(condition)
        )
        or 0
    )
    column = {
        "createdAt": as_seen(User.created_at, Membership.created_at),
        "name": func.lower(display_name()),
        "email": func.lower(User.email),
    }[order]
    ordering = [column.desc(), User.id.desc()] if descending else [column.asc(), User.id.asc()]
    rows = list(await session.execute(base.order_by(*ordering).offset(offset).limit(limit)))
    granted = await memberships.roles_by_membership(session, [membership.id for _, membership in rows])
    members = []
    for user, membership in rows:
        set_committed_value(membership, "roles", granted[membership.id])
        members.append(Member(user, membership))
    return members, total


async def names_starting_with(session: AsyncSession, org_id: str, typed: str, limit: int) -> list[str]:
    """Distinct member names in which ``typed`` starts a word (read left to right), alphabetically."""
    name = display_name()
    pattern = _escape_like(typed.lower())
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
