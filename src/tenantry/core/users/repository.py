from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.memberships.models import (
    MEMBERSHIP_ACTIVE,
    MEMBERSHIP_DISABLED,
    MEMBERSHIP_INVITED,
    Membership,
    membership_roles,
)
from tenantry.core.users.models import USER_ACTIVE, USER_DELETED, USER_DISABLED, User


async def get_live(session: AsyncSession, user_id: str) -> User | None:
    statement = select(User).where(User.id == user_id, User.status != USER_DELETED)
    return (await session.scalars(statement)).first()


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    statement = select(User).where(func.lower(User.email) == email.lower(), User.status != USER_DELETED)
    return (await session.scalars(statement)).first()


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(term: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(term.lower())}%"
    return or_(
        *(func.lower(column).like(pattern, escape="\\") for column in (User.email, User.first_name, User.last_name))
    )


def _has_status(status: str) -> ColumnElement[bool]:
    """The status shown for a member: disabled (account or membership), invited, or active."""
    if status == USER_DISABLED:
        return or_(User.status == USER_DISABLED, Membership.status == MEMBERSHIP_DISABLED)
    if status == MEMBERSHIP_INVITED:
        return and_(User.status == USER_ACTIVE, Membership.status == MEMBERSHIP_INVITED)
    return and_(User.status == USER_ACTIVE, Membership.status == MEMBERSHIP_ACTIVE)


async def member_page(
    session: AsyncSession,
    org_id: str,
    *,
    q: str | None,
    status: str | None,
    role_id: str | None,
    after: str | None,
    limit: int,
) -> list[tuple[User, Membership]]:
    """A page of the organization's members in id order (keyset: ids after ``after``)."""
    statement = (
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id, User.status != USER_DELETED)
    )
    if q:
        statement = statement.where(_matches(q))
    if status:
        statement = statement.where(_has_status(status))
    if role_id:
        granted = exists().where(
            membership_roles.c.membership_id == Membership.id, membership_roles.c.role_id == role_id
        )
        statement = statement.where(granted)
    if after:
        statement = statement.where(User.id > after)
    rows = await session.execute(statement.order_by(User.id).limit(limit))
    return [(user, membership) for user, membership in rows]
