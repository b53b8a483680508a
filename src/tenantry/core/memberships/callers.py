"""The statement a user's own token is authorized with under an organization, with the member its path names.

One round trip: the account (live, or no row), whether the token's session has ended, the organization, the
account's membership there with its roles and, where the route names one, the organization's member with the
names of its roles, as a read answers it (Core columns, no entity). The account drives: a deleted account
gives no row, so the caller hears 401 before anything about the organization or the member is said. What is
read of the member is handed on only once the caller's rights are checked (``auth.policy``).

One row per pair of roles (the caller's, the member's): joins kept flat, as ``repository._with_roles`` explains.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tenantry.core.memberships.models import Membership, membership_roles
from tenantry.core.memberships.service import AccountColumns, MemberRead, MembershipColumns
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.roles.models import Role
from tenantry.core.roles.service import grants_permissions
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.models import User, live_account
from tenantry.db.detached import column_keys, detached
from tenantry.db.engine import reading

_MEMBER_ACCOUNT = aliased(User, name="member_account")
_MEMBER_MEMBERSHIP = aliased(Membership, name="member_membership")
_MEMBER_GRANTS = membership_roles.alias("member_grants")
_MEMBER_ROLE = aliased(Role, name="member_role")
_MEMBER_COLUMNS = (
    *(getattr(_MEMBER_ACCOUNT, name) for name in AccountColumns._fields),
    *(getattr(_MEMBER_MEMBERSHIP, name) for name in MembershipColumns._fields),
    _MEMBER_ROLE.id,
    _MEMBER_ROLE.name,
)
_RIGHTS = (Membership.status, Membership.consent_pending, Role.id, Role.permissions)
"""The caller's membership as authorizing reads it: columns, not entities (the policy changes none of it)."""
_CALLER = 3 + len(_RIGHTS)
"""Columns of the caller's part: the account, whether its session ended, the organization, then ``_RIGHTS``."""


def _with_grants(statement: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """``statement`` (whose FROM holds the caller's membership) joined to the roles it grants, one row each."""
    return statement.outerjoin(membership_roles, membership_roles.c.membership_id == Membership.id).outerjoin(
        Role, Role.id == membership_roles.c.role_id
    )


@cache
def _statement(with_member: bool, entities: bool = True) -> Select[*tuple[Any, ...]]:
    """Built once each: the caller's part, and with ``with_member`` the member named by ``member_id`` too. With
    ``entities`` the account and the organization are ORM entities; without, their tables' columns in line (in
    ``_USER_KEYS`` and ``_ORG_KEYS``' order: ``_with_entities``), the same SQL."""
    account: Any = (User,) if entities else tuple(_USERS.columns)
    org: Any = (Organization,) if entities else tuple(_ORGS.columns)
    statement = _with_grants(
        select(
            *account,
            exists()
            .where(RefreshToken.family_id == bindparam("family_id"), RefreshToken.revoked_at.is_not(None))
            .label("session_ended"),
            *org,
            *_RIGHTS,
        )
        .select_from(User)
        .outerjoin(Organization, orgs.matches_ref(bindparam("ref")))
        .outerjoin(Membership, and_(Membership.org_id == Organization.id, Membership.user_id == User.id))
    ).where(User.id == bindparam("user_id"), live_account())
    if not with_member:
        return statement
    return (
        statement.add_columns(*_MEMBER_COLUMNS)
        .outerjoin(
            _MEMBER_MEMBERSHIP,
            and_(_MEMBER_MEMBERSHIP.org_id == Organization.id, _MEMBER_MEMBERSHIP.user_id == bindparam("member_id")),
        )
        .outerjoin(
            _MEMBER_ACCOUNT,
            and_(_MEMBER_ACCOUNT.id == _MEMBER_MEMBERSHIP.user_id, live_account(_MEMBER_ACCOUNT)),
        )
        .outerjoin(_MEMBER_GRANTS, _MEMBER_GRANTS.c.membership_id == _MEMBER_MEMBERSHIP.id)
        .outerjoin(_MEMBER_ROLE, _MEMBER_ROLE.id == _MEMBER_GRANTS.c.role_id)
        .order_by(_MEMBER_ROLE.name)  # the member's role names in the order ``directory`` reads them
    )


class MembershipRights(NamedTuple):
    """An account's membership in an organization, as deciding what it may do there reads it."""

    status: str
    consent_pending: bool
    """An invitation the account has not accepted: no membership yet."""
    permissions: frozenset[str]
    """What the roles it holds there permit."""


def _rights(rows: Sequence[Sequence[Any]], at: int) -> MembershipRights | None:
    """The membership whose ``_RIGHTS`` columns start at ``at`` in each of ``rows`` (one row per role it holds);
    None when the rows hold no membership."""
    status, consent_pending = rows[0][at], rows[0][at + 1]
    if status is None:
        return None
    grants = {row[at + 2]: row[at + 3] for row in rows if row[at + 2] is not None}
    return MembershipRights(status, bool(consent_pending), grants_permissions(grants.items()))


@dataclass(frozen=True)
class CallerInOrg:
    user: User | None
    """The live account (None when deleted or unknown)."""
    session_ended: bool
    org: Organization | None
    membership: MembershipRights | None
    """The account's membership in ``org``; None when it has none."""
    member: MemberRead | None = None
    """The organization's live member the route names, when it named one and there is one."""


async def caller_in_org(
    session: AsyncSession, user_id: str, family_id: str | None, org_ref: str, member_id: str | None = None
) -> CallerInOrg:
    """What authorizing a user's request under an organization needs and, given ``member_id``, that member as
    ``directory.read_member`` reads it: one statement."""
    params = {"user_id": user_id, "family_id": family_id, "ref": org_ref, "member_id": member_id}
    if reading(session):
        core = await (await session.connection()).execute(_statement(member_id is not None, entities=False), params)
        rows: Sequence[Sequence[Any]] = _with_entities(core.all())
    else:
        rows = (await session.execute(_statement(member_id is not None), params)).all()
    if not rows:
        return CallerInOrg(None, False, None, None)
    user, session_ended, org = rows[0][:3]
    member = _member(rows) if member_id is not None else None
    return CallerInOrg(user, bool(session_ended), org, _rights(rows, 3), member)


_USERS = cast(Table, User.__table__)
_ORGS = cast(Table, Organization.__table__)
_USER_KEYS = column_keys(User)
_ORG_KEYS = column_keys(Organization)
_ORG_AT = len(_USER_KEYS) + 1
_REST_AT = _ORG_AT + len(_ORG_KEYS)


def _with_entities(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows of ``_statement(…, entities=False)`` as the session's rows read: the account and the organization
    as entities, detached (a reading unit of work changes neither: ``db.detached``), made from the first row
    (the others repeat them)."""
    if not rows:
        return []
    first = rows[0]
    user = detached(User, _USER_KEYS, first[: _ORG_AT - 1])
    org_columns = first[_ORG_AT:_REST_AT]
    org = None if org_columns[0] is None else detached(Organization, _ORG_KEYS, org_columns)
    return [(user, row[_ORG_AT - 1], org, *row[_REST_AT:]) for row in rows]


_ORG_AND_RIGHTS = _with_grants(
    select(Organization, *_RIGHTS)
    .outerjoin(Membership, and_(Membership.org_id == Organization.id, Membership.user_id == bindparam("user_id")))
    .where(orgs.matches_ref(bindparam("ref")))
)


async def org_and_membership(
    session: AsyncSession, org_ref: str, user_id: str | None
) -> tuple[Organization | None, MembershipRights | None]:
    """A live organization by id or slug, with ``user_id``'s membership there, in one statement (for a caller
    whose account is already read: an impersonation, a platform admin; an API key, with no ``user_id``)."""
    rows = (await session.execute(_ORG_AND_RIGHTS, {"ref": org_ref, "user_id": user_id})).all()
    return (None, None) if not rows else (rows[0][0], _rights(rows, 1))


_ACCOUNT = len(AccountColumns._fields)
_MEMBERSHIP = len(MembershipColumns._fields)


def _member(rows: Sequence[Sequence[Any]]) -> MemberRead | None:
    first = rows[0]
    if first[_CALLER] is None:
        return None
    account = AccountColumns._make(first[_CALLER : _CALLER + _ACCOUNT])
    membership = MembershipColumns._make(first[_CALLER + _ACCOUNT : _CALLER + _ACCOUNT + _MEMBERSHIP])
    names = dict.fromkeys((row[-2], row[-1]) for row in rows if row[-2] is not None)
    return MemberRead.of(account, membership, [name for _, name in names])
