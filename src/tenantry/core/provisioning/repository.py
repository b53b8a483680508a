"""Queries for provisioning: filtered, sorted pages of roles, who holds which role, role states.

Pages of members are the member directory's (``core.memberships.directory``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.memberships.models import Membership, membership_roles
from tenantry.core.provisioning.schemas import RoleState
from tenantry.core.roles.models import OrgRoleState, Role
from tenantry.core.users.models import User, live_account


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[Any]


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _roles(org_id: str) -> Select[Any]:
    return (
        select(Role)
        .outerjoin(OrgRoleState, and_(OrgRoleState.org_id == org_id, OrgRoleState.role_id == Role.id))
        .where(or_(Role.org_id == org_id, Role.org_id.is_(None)))
    )


async def role_page(
    session: AsyncSession,
    org_id: str,
    *,
    condition: ColumnElement[bool] | None,
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> Page:
    """Roles visible in the organization (built-in ones first, by id) matching ``condition``."""
    query = _roles(org_id)
    if condition is not None:
        query = query.where(condition)
    counted = query.with_only_columns(Role.id)
    total = int(await session.scalar(select(func.count()).select_from(counted.subquery())) or 0)
    if limit <= 0 or offset >= total:
        return Page(total, [])
    roles = await session.scalars(query.order_by(*order, Role.id).offset(offset).limit(limit))
    return Page(total, list(roles))


async def holders(session: AsyncSession, org_id: str, role_ids: list[str]) -> dict[str, list[str]]:
    """The users holding each role in the organization (live accounts), by user id."""
    found: dict[str, list[str]] = {role_id: [] for role_id in role_ids}
    if not role_ids:
        return found
    statement = (
        select(membership_roles.c.role_id, Membership.user_id)
        .join(Membership, Membership.id == membership_roles.c.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id, membership_roles.c.role_id.in_(role_ids), live_account())
        .order_by(Membership.user_id)
    )
    for role_id, user_id in await session.execute(statement):
        found[role_id].append(user_id)
    return found


async def role_states(session: AsyncSession, org_id: str, role_ids: list[str]) -> dict[str, RoleState]:
    """Current versions and external ids, read afresh (the grant listener updates them with SQL)."""
    if not role_ids:
        return {}
    statement = select(
        OrgRoleState.role_id, OrgRoleState.version, OrgRoleState.external_id, OrgRoleState.updated_at
    ).where(OrgRoleState.org_id == org_id, OrgRoleState.role_id.in_(role_ids))
    return {
        role_id: RoleState(version, external_id, updated_at)
        for role_id, version, external_id, updated_at in await session.execute(statement)
    }


async def state_row(session: AsyncSession, org_id: str, role_id: str) -> OrgRoleState | None:
    statement = (
        select(OrgRoleState)
        .where(OrgRoleState.org_id == org_id, OrgRoleState.role_id == role_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).first()


async def lock_role_state(session: AsyncSession, org_id: str, role_id: str) -> None:
    statement = select(OrgRoleState.version).where(OrgRoleState.org_id == org_id, OrgRoleState.role_id == role_id)
    await session.execute(statement.with_for_update())
