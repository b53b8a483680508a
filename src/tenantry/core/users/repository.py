from sqlalchemy import ColumnElement, and_, column, exists, func, literal_column, or_, select, text
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


# SQLite: the FTS5 trigram index of migration 0007 (substring match, case-insensitive, terms of 3+ characters).
_FTS_HITS = text("SELECT rowid FROM users_search WHERE users_search MATCH :fts_phrase").columns(column("rowid"))


def _matches(term: str, dialect: str) -> ColumnElement[bool]:
    """Email, first or last name contains ``term``, ignoring case.

    PostgreSQL answers ``lower(col) LIKE '%term%'`` from its trigram GIN indexes; SQLite from the FTS5
    trigram table, except for terms under three characters (no trigram), which scan.
    """
    if dialect == "sqlite" and len(term) >= 3:
        phrase = '"' + term.replace('"', '""') + '"'
        return literal_column("users.rowid").in_(_FTS_HITS.bindparams(fts_phrase=phrase))
    pattern = f"%{_escape_like(term.lower())}%"
    return or_(*(func.lower(col).like(pattern, escape="\\") for col in (User.email, User.first_name, User.last_name)))


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
        statement = statement.where(_matches(q, session.get_bind().dialect.name))
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
