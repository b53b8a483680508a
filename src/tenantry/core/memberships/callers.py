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
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from tenantry.core.memberships.models import Membership, membership_roles
from tenantry.core.memberships.service import AccountColumns, MemberRead, MembershipColumns
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.roles.models import Role
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.models import USER_DELETED, User

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
_CALLER = 5
"""Columns of the caller's part: the account, whether its session ended, the organization, the membership, a role."""


@cache
def _statement(with_member: bool) -> Select[*tuple[Any, ...]]:
    """Built once each: the caller's part, and with ``with_member`` the member named by ``member_id`` too."""
    statement = (
        select(
            User,
            exists()
            .where(RefreshToken.family_id == bindparam("family_id"), RefreshToken.revoked_at.is_not(None))
            .label("session_ended"),
            Organization,
            Membership,
            Role,
        )
        .select_from(User)
        .outerjoin(Organization, orgs.matches_ref(bindparam("ref")))
        .outerjoin(Membership, and_(Membership.org_id == Organization.id, Membership.user_id == User.id))
        .outerjoin(membership_roles, membership_roles.c.membership_id == Membership.id)
        .outerjoin(Role, Role.id == membership_roles.c.role_id)
        .where(User.id == bindparam("user_id"), User.status != USER_DELETED)
    )
    if not with_member:
        return statement.order_by(Role.name)
    return (
        statement.add_columns(*_MEMBER_COLUMNS)
        .outerjoin(
            _MEMBER_MEMBERSHIP,
            and_(_MEMBER_MEMBERSHIP.org_id == Organization.id, _MEMBER_MEMBERSHIP.user_id == bindparam("member_id")),
        )
        .outerjoin(
            _MEMBER_ACCOUNT,
            and_(_MEMBER_ACCOUNT.id == _MEMBER_MEMBERSHIP.user_id, _MEMBER_ACCOUNT.status != USER_DELETED),
        )
        .outerjoin(_MEMBER_GRANTS, _MEMBER_GRANTS.c.membership_id == _MEMBER_MEMBERSHIP.id)
        .outerjoin(_MEMBER_ROLE, _MEMBER_ROLE.id == _MEMBER_GRANTS.c.role_id)
        .order_by(_MEMBER_ROLE.name, Role.name)  # the member's role names in the order ``directory`` reads them
    )


@dataclass(frozen=True)
class CallerInOrg:
    user: User | None
    """The live account (None when deleted or unknown)."""
    session_ended: bool
    org: Organization | None
    membership: Membership | None
    """The account's membership in ``org``, roles loaded; None when it has none."""
    member: MemberRead | None = None
    """The organization's live member the route names, when it named one and there is one."""


async def caller_in_org(
    session: AsyncSession, user_id: str, family_id: str | None, org_ref: str, member_id: str | None = None
) -> CallerInOrg:
    """What authorizing a user's request under an organization needs and, given ``member_id``, that member as
    ``directory.read_member`` reads it: one statement."""
    params = {"user_id": user_id, "family_id": family_id, "ref": org_ref, "member_id": member_id}
    rows = (await session.execute(_statement(member_id is not None), params)).all()
    if not rows:
        return CallerInOrg(None, False, None, None)
    user, session_ended, org, membership = rows[0][:4]
    if membership is not None:
        set_committed_value(membership, "roles", list(dict.fromkeys(row[4] for row in rows if row[4] is not None)))
    member = _member(rows) if member_id is not None else None
    return CallerInOrg(user, bool(session_ended), org, membership, member)


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
