from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.memberships.models import (
    MEMBERSHIP_ACTIVE,
    MEMBERSHIP_DISABLED,
    MEMBERSHIP_INVITED,
    Membership,
    membership_roles,
)
from tenantry.core.memberships.repository import as_seen
from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import USER_ACTIVE, USER_DELETED, USER_DISABLED, User


async def platform_admin_exists(session: AsyncSession) -> bool:
    statement = select(exists().where(User.platform_admin.is_(True), User.status != USER_DELETED))
    return bool(await session.scalar(statement))


async def get_live(session: AsyncSession, user_id: str) -> User | None:
    statement = select(User).where(User.id == user_id, User.status != USER_DELETED)
    return (await session.scalars(statement)).first()


async def get_many(session: AsyncSession, user_ids: Sequence[str]) -> list[User]:
    """The live accounts among ``user_ids``, in id order."""
    statement = select(User).where(User.id.in_(user_ids), User.status != USER_DELETED).order_by(User.id)
    return list(await session.scalars(statement))


_BY_EMAIL = select(User).where(User.email_key == bindparam("key"), User.status != USER_DELETED)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The live account whose email is the same identity as ``email`` (any spelling: see ``emailkey``)."""
    return (await session.scalars(_BY_EMAIL, {"key": email_key(email)})).first()


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# SQLite: the FTS5 trigram index of migration 0007 (substring match, case-insensitive, terms of 3+ characters).
_FTS_HITS = text("SELECT rowid FROM users_search WHERE users_search MATCH :fts_phrase").columns(column("rowid"))


_SEARCHED = {"email": User.email, "first_name": User.first_name, "last_name": User.last_name}


def _matches(
    term: str, dialect: str, fields: Sequence[str] = ("email", "first_name", "last_name")
) -> ColumnElement[bool]:
    """One of ``fields`` (email, first or last name) contains ``term``, ignoring case.

    PostgreSQL answers ``lower(col) LIKE '%term%'`` from its trigram GIN indexes; SQLite from the FTS5
    trigram table (restricted to ``fields``), except for terms under three characters (no trigram), which scan.
    """
    if dialect == "sqlite" and len(term) >= 3:
        phrase = "{" + " ".join(fields) + '} : "' + term.replace('"', '""') + '"'
        # A unique parameter: one statement may ask the index twice (the email, and the names).
        hits = _FTS_HITS.bindparams(bindparam("fts_phrase", phrase, unique=True))
        return literal_column("users.rowid").in_(hits)
    # The pattern goes into the SQL text, not a parameter: a prepared statement switches to a generic plan
    # after five runs, and a generic plan cannot know the pattern is selective, so it scans the organization's
    # members instead of asking the trigram indexes (20 ms instead of 3 in an org of 5,000).
    pattern = literal(f"%{_escape_like(term.lower())}%", String, literal_execute=True)
    return or_(*(func.lower(_SEARCHED[name]).like(pattern, escape="\\") for name in fields))


def _member_matches(term: str, dialect: str) -> ColumnElement[bool]:
    """A member's email or names contain ``term``; the names only of members who accepted to join."""
    names = and_(Membership.consent_pending.is_(False), _matches(term, dialect, fields=("first_name", "last_name")))
    return or_(_matches(term, dialect, fields=("email",)), names)


def _has_status(status: str) -> ColumnElement[bool]:
    """The status shown for a member: disabled (account or membership), invited, or active."""
    if status == USER_DISABLED:
        return or_(User.status == USER_DISABLED, Membership.status == MEMBERSHIP_DISABLED)
    if status == MEMBERSHIP_INVITED:
        return and_(User.status == USER_ACTIVE, Membership.status == MEMBERSHIP_INVITED)
    return and_(User.status == USER_ACTIVE, Membership.status == MEMBERSHIP_ACTIVE)


_Row = TypeVarTuple("_Row")


def _member_statement(
    columns: Select[*_Row], org_id: str, *, q: str | None, status: str | None, role_id: str | None, dialect: str
) -> Select[*_Row]:
    """``columns`` over the organization's members matching the search, the status and the role."""
    statement = columns.join(Membership, Membership.user_id == User.id).where(
        Membership.org_id == org_id, User.status != USER_DELETED
    )
    if q:
        statement = statement.where(_member_matches(q, dialect))
    if status:
        statement = statement.where(_has_status(status))
    if role_id:
        granted = exists().where(
            membership_roles.c.membership_id == Membership.id, membership_roles.c.role_id == role_id
        )
        statement = statement.where(granted)
    return statement


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
    statement = _member_statement(
        select(User, Membership), org_id, q=q, status=status, role_id=role_id, dialect=_dialect(session)
    )
    if after:
        # On both sides of the join: PostgreSQL merge-joins the two id-ordered indexes, and a bound on one side
        # only made it read the other from its start (a page deep in an org of 100,000: 31 ms -> 0.2 ms).
        statement = statement.where(User.id > after, Membership.user_id > after)
    # In memberships.user_id order (the same as users.id): SQLite then walks the (org_id, user_id) index and
    # stops at the page's end, where ordering by users.id sorted every member after the cursor first.
    rows = await session.execute(statement.order_by(Membership.user_id).limit(limit))
    return [(user, membership) for user, membership in rows]


async def member_count(
    session: AsyncSession, org_id: str, *, q: str | None, status: str | None, role_id: str | None, cap: int
) -> int:
    """How many of the organization's members match, counting no further than ``cap + 1`` (a list's total:
    exact up to ``cap``, "more" beyond, so a broad filter in a large organization costs no full count).

    Unfiltered, the organization's memberships are counted from their index alone, exactly."""
    if not (q or status or role_id):
        statement = select(func.count()).select_from(Membership).where(Membership.org_id == org_id)
        return int((await session.execute(statement)).scalar_one())
    matching = _member_statement(
        select(User.id), org_id, q=q, status=status, role_id=role_id, dialect=_dialect(session)
    ).limit(cap + 1)
    return int((await session.execute(select(func.count()).select_from(matching.subquery()))).scalar_one())


SortField = Literal[
    "id", "email", "first_name", "last_name", "status", "locale", "region", "last_login_at", "created_at", "updated_at"
]


@dataclass(frozen=True)
class SortKey:
    field: SortField
    descending: bool = False


@dataclass(frozen=True)
class MemberCriteria:
    """Which members a counted page holds; every filter given must match."""

    email_contains: str | None = None
    """Case-insensitive partial match on the email address, or any spelling of the whole address."""
    disabled: bool | None = None
    """True: only members shown as disabled (account or membership); False: only the others."""
    role_id: str | None = None
    """Only members who hold this role."""


def _member_disabled() -> ColumnElement[bool]:
    return or_(User.status == USER_DISABLED, Membership.status == MEMBERSHIP_DISABLED)


def _ordering(
    order: Sequence[SortKey], disabled: ColumnElement[bool], *, members: bool = True
) -> list[ColumnElement[Any]]:
    """ORDER BY terms: text case-insensitively, missing values first (as MongoDB sorts), then by id. Among
    ``members``, an account that has not accepted to join sorts by what its organization sees of it."""

    def seen(column: Any, instead: Any = None) -> Any:
        return as_seen(column, instead) if members else column

    columns: dict[str, Any] = {
        "id": User.id,
        "email": func.lower(User.email),
        "first_name": func.lower(seen(User.first_name)),
        "last_name": func.lower(seen(User.last_name)),
        "status": case((disabled, 0), else_=1),
        "locale": func.lower(seen(User.locale)),
        "region": seen(User.region),
        "last_login_at": seen(User.last_login_at),
        "created_at": seen(User.created_at, Membership.created_at),
        "updated_at": seen(User.updated_at, Membership.updated_at),
    }
    terms: list[ColumnElement[Any]] = [
        columns[key.field].desc().nulls_last() if key.descending else columns[key.field].asc().nulls_first()
        for key in order
    ]
    if not any(key.field == "id" for key in order):
        terms.append(User.id.asc())
    return terms


def _members_of(org_id: str, criteria: MemberCriteria, dialect: str) -> Select[User, Membership]:
    statement = (
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id, User.status != USER_DELETED)
    )
    if criteria.email_contains:
        term = criteria.email_contains
        statement = statement.where(or_(_matches(term, dialect, fields=("email",)), User.email_key == email_key(term)))
    if criteria.disabled is not None:
        statement = statement.where(_member_disabled() if criteria.disabled else not_(_member_disabled()))
    if criteria.role_id:
        granted = exists().where(
            membership_roles.c.membership_id == Membership.id, membership_roles.c.role_id == criteria.role_id
        )
        statement = statement.where(granted)
    return statement


async def count_members(session: AsyncSession, org_id: str, criteria: MemberCriteria) -> int:
    members = _members_of(org_id, criteria, _dialect(session)).with_only_columns(User.id).subquery()
    return int(await session.scalar(select(func.count()).select_from(members)) or 0)


async def sorted_members(
    session: AsyncSession, org_id: str, criteria: MemberCriteria, order: Sequence[SortKey], *, offset: int, limit: int
) -> list[tuple[User, Membership]]:
    statement = _members_of(org_id, criteria, _dialect(session)).order_by(*_ordering(order, _member_disabled()))
    rows = await session.execute(statement.offset(offset).limit(limit))
    return [(user, membership) for user, membership in rows]


def _addable_to(org_id: str, term: str | None, through_org_ids: Sequence[str] | None, dialect: str) -> Select[User]:
    """Live accounts outside ``org_id``; only members of ``through_org_ids`` unless it is None."""
    statement = select(User).where(
        User.status != USER_DELETED,
        not_(exists().where(Membership.user_id == User.id, Membership.org_id == org_id)),
    )
    if through_org_ids is not None:
        statement = statement.where(
            exists().where(
                Membership.user_id == User.id,
                Membership.org_id.in_(through_org_ids),
                Membership.consent_pending.is_(False),
            )
        )
    if term:
        statement = statement.where(_matches(term, dialect))
    return statement


async def count_addable(
    session: AsyncSession, org_id: str, term: str | None, through_org_ids: Sequence[str] | None
) -> int:
    accounts = _addable_to(org_id, term, through_org_ids, _dialect(session)).with_only_columns(User.id).subquery()
    return int(await session.scalar(select(func.count()).select_from(accounts)) or 0)


async def sorted_addable(
    session: AsyncSession,
    org_id: str,
    term: str | None,
    through_org_ids: Sequence[str] | None,
    order: Sequence[SortKey],
    *,
    offset: int,
    limit: int,
) -> list[User]:
    disabled = User.status == USER_DISABLED
    statement = _addable_to(org_id, term, through_org_ids, _dialect(session)).order_by(
        *_ordering(order, disabled, members=False)
    )
    return list(await session.scalars(statement.offset(offset).limit(limit)))
