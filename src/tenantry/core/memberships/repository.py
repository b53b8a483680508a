from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, delete, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership, membership_roles
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import OWNER
from tenantry.core.users.models import USER_ACTIVE, USER_DISABLED, User, live_account
from tenantry.db.base import in_text

_CHUNK = 1000  # ids per IN list: well under SQLite's bound on bound parameters


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _with_roles(statement: S) -> S:
    """Load each membership's roles in the same statement, through flat LEFT JOINs: the nested join of a
    joinedload, ``LEFT JOIN (membership_roles JOIN roles)``, made SQLite scan every grant (2 s at 1M)."""
    return (
        statement.outerjoin(membership_roles, membership_roles.c.membership_id == Membership.id)
        .outerjoin(Role, Role.id == membership_roles.c.role_id)
        .options(contains_eager(Membership.roles))
        .order_by(Role.name)  # the relationship's order, which contains_eager leaves to the statement
    )


def as_seen(column: Any, instead: Any = None) -> ColumnElement[Any]:
    """An account's ``column`` as the membership's organization sees it: while the account has not accepted
    to join (``consent_pending``), ``instead`` (NULL by default), so no search, filter or order reveals it."""
    return case((Membership.consent_pending.is_(True), null() if instead is None else instead), else_=column)


def account_disabled_as_seen() -> ColumnElement[bool]:
    """The account is disabled, as the membership's organization sees it: one that has not accepted to join reads
    as active (``service.email_only_columns``), so no filter or order tells the inviting organization more."""
    return and_(Membership.consent_pending.is_(False), User.status == in_text(USER_DISABLED))


async def get(session: AsyncSession, org_id: str, user_id: str) -> Membership | None:
    statement = _with_roles(select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id))
    return (await session.scalars(statement)).unique().first()


def _members(org_id: Any, user_ids: ColumnElement[bool]) -> Select[User, Membership]:
    """Live accounts that ``user_ids`` picks with their memberships in the organization and the roles they hold."""
    return _with_roles(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(user_ids, live_account(), Membership.org_id == org_id)
    )


_MEMBER = _members(bindparam("org_id"), User.id == bindparam("user_id"))


async def member(
    session: AsyncSession, org_id: str, user_id: str, *, fresh: bool = False
) -> tuple[User, Membership] | None:
    """A live account with its membership in the organization and the roles it holds there, in one statement;
    ``fresh``: as stored now, over what the session had loaded (after ``lock`` waited for another change)."""
    statement = _MEMBER.execution_options(populate_existing=True) if fresh else _MEMBER
    row = (await session.execute(statement, {"org_id": org_id, "user_id": user_id})).unique().first()
    return None if row is None else (row[0], row[1])


async def members(
    session: AsyncSession, org_id: str, user_ids: list[str], *, fresh: bool = False
) -> dict[str, tuple[User, Membership]]:
    """``member`` for many accounts, a thousand per statement: those found, by user id."""
    found: dict[str, tuple[User, Membership]] = {}
    for start in range(0, len(user_ids), _CHUNK):
        statement = _members(org_id, User.id.in_(user_ids[start : start + _CHUNK]))
        if fresh:
            statement = statement.execution_options(populate_existing=True)
        for user, membership in (await session.execute(statement)).unique():
            found[user.id] = (user, membership)
    return found


async def lock(session: AsyncSession, org_id: str, user_id: str) -> None:
    """Hold the membership row until the transaction ends (PostgreSQL)."""
    statement = select(Membership.id).where(Membership.org_id == org_id, Membership.user_id == user_id)
    await session.execute(statement.with_for_update())


async def lock_all(session: AsyncSession, org_id: str, user_ids: list[str]) -> None:
    """``lock`` the memberships of ``user_ids``, one statement per chunk, in the order of ``user_ids`` (PostgreSQL
    locks the rows as the sorted scan returns them)."""
    for start in range(0, len(user_ids), _CHUNK):
        chunk = user_ids[start : start + _CHUNK]
        statement = select(Membership.id).where(Membership.org_id == org_id, Membership.user_id.in_(chunk))
        await session.execute(statement.order_by(Membership.user_id).with_for_update())


async def roles_by_membership(session: AsyncSession, membership_ids: list[str]) -> dict[str, list[Role]]:
    if not membership_ids:
        return {}
    statement = (
        select(membership_roles.c.membership_id, Role)
        .join(Role, Role.id == membership_roles.c.role_id)
        .where(membership_roles.c.membership_id.in_(membership_ids))
        .order_by(Role.name)
    )
    grouped: dict[str, list[Role]] = {membership_id: [] for membership_id in membership_ids}
    for membership_id, role in await session.execute(statement):
        grouped[membership_id].append(role)
    return grouped


async def other_org_count(session: AsyncSession, user_id: str, org_id: str) -> int:
    """How many other organizations the account has joined (invitations it has not accepted do not count)."""
    statement = select(func.count()).where(
        Membership.user_id == user_id, Membership.org_id != org_id, Membership.consent_pending.is_(False)
    )
    return int(await session.scalar(statement) or 0)


async def in_other_orgs(session: AsyncSession, user_ids: list[str], org_id: str) -> set[str]:
    """The accounts among ``user_ids`` that have joined another organization (``other_org_count``'s rule)."""
    joined: set[str] = set()
    for start in range(0, len(user_ids), _CHUNK):
        statement = select(Membership.user_id).where(
            Membership.user_id.in_(user_ids[start : start + _CHUNK]),
            Membership.org_id != org_id,
            Membership.consent_pending.is_(False),
        )
        joined.update(await session.scalars(statement))
    return joined


async def active_owner_ids(session: AsyncSession, org_id: str) -> set[str]:
    """Users who hold the owner role in the organization and could act on it now."""
    statement = (
        select(Membership.user_id)
        .join(membership_roles, membership_roles.c.membership_id == Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.org_id == org_id,
            Membership.status == MEMBERSHIP_ACTIVE,
            membership_roles.c.role_id == OWNER.id,
            User.status == USER_ACTIVE,
        )
    )
    return set(await session.scalars(statement))


async def user_ids_without_membership(session: AsyncSession, user_ids: list[str]) -> list[str]:
    """Those of ``user_ids`` that have joined no organization (an invitation not accepted is no membership)."""
    kept: set[str] = set()
    for start in range(0, len(user_ids), _CHUNK):
        chunk = user_ids[start : start + _CHUNK]
        joined = select(Membership.user_id).where(Membership.user_id.in_(chunk), Membership.consent_pending.is_(False))
        kept.update(await session.scalars(joined))
    return [user_id for user_id in user_ids if user_id not in kept]


async def lock_memberships_of(session: AsyncSession, user_ids: list[str], *, invitations: bool) -> list[Membership]:
    """The memberships of ``user_ids`` that wait for their consent (``invitations``) or that they have joined, held
    until the transaction ends (PostgreSQL), in the order of their user ids, then of their organizations' ids; one
    answered while this waited is no longer among the invitations."""
    found: list[Membership] = []
    for start in range(0, len(user_ids), _CHUNK):
        chunk = user_ids[start : start + _CHUNK]
        statement = (
            select(Membership)
            .where(Membership.user_id.in_(chunk), Membership.consent_pending.is_(invitations))
            .order_by(Membership.user_id, Membership.org_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found.extend(await session.scalars(statement))
    return found


async def delete_all(session: AsyncSession, memberships: list[Membership]) -> None:
    """Delete the memberships (with their grants), a thousand per statement."""
    ids = [membership.id for membership in memberships]
    for start in range(0, len(ids), _CHUNK):
        await session.execute(delete(Membership).where(Membership.id.in_(ids[start : start + _CHUNK])))


async def by_id(session: AsyncSession, membership_id: str) -> Membership | None:
    return await session.get(Membership, membership_id)


async def for_user(session: AsyncSession, user_id: str) -> list[Membership]:
    return list(await session.scalars(select(Membership).where(Membership.user_id == user_id)))


async def joined_org_ids(session: AsyncSession, user_id: str) -> list[str]:
    """The organizations the account has joined (not those whose invitation it has not accepted), in id order."""
    statement = select(Membership.org_id).where(Membership.user_id == user_id, Membership.consent_pending.is_(False))
    return list(await session.scalars(statement.order_by(Membership.org_id)))


async def first_owner_id(session: AsyncSession, org_id: str) -> str | None:
    """The user who holds the owner role longest, preferring owners who could act now; None without one."""
    could_act = and_(Membership.status == MEMBERSHIP_ACTIVE, User.status == USER_ACTIVE)
    statement = (
        select(Membership.user_id)
        .join(membership_roles, membership_roles.c.membership_id == Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id, membership_roles.c.role_id == OWNER.id, live_account())
        .order_by(case((could_act, 0), else_=1), Membership.created_at, Membership.id)
        .limit(1)
    )
    return await session.scalar(statement)
