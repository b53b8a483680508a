"""Every change to who holds a role in an organization bumps that role's version there (its SCIM Group ETag).

Grants change through ``Membership.roles``: a new membership with roles, roles added or removed, a
membership deleted. A listener notices each of them in every flush, whichever service made it, and
bumps ``OrgRoleState.version`` of each (organization, role) touched, creating the row when it is
missing. A change to a custom role itself (name, description, permissions) bumps it too. Bulk inserts
that bypass the ORM (the importer) call ``bump`` themselves.
"""

from functools import cache
from typing import Any

from sqlalchemy import Executable, Table, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from tenantry.core.memberships.models import Membership, membership_roles
from tenantry.core.roles.models import OrgRoleState, Role
from tenantry.db.base import utcnow

_PENDING = "tenantry.role_versions_pending"
Pair = tuple[str, str]


def _held_by_deleted(session: Session, membership: Membership) -> set[str]:
    loaded = inspect(membership).dict.get("roles")
    if loaded is not None:
        return {role.id for role in loaded}
    statement = select(membership_roles.c.role_id).where(membership_roles.c.membership_id == membership.id)
    return set(session.execute(statement).scalars())


def _touched(session: Session) -> set[Pair]:
    touched: set[Pair] = set()
    for instance in session.new:
        if isinstance(instance, Membership):
            touched.update((instance.org_id, role.id) for role in inspect(instance).dict.get("roles", []))
    for instance in session.dirty:
        if isinstance(instance, Membership):
            history = inspect(instance).attrs.roles.history
            touched.update((instance.org_id, role.id) for role in (*history.added, *history.deleted))
        elif isinstance(instance, Role) and instance.org_id is not None and session.is_modified(instance):
            touched.add((instance.org_id, instance.id))
    for instance in session.deleted:
        if isinstance(instance, Membership):
            touched.update((instance.org_id, role_id) for role_id in _held_by_deleted(session, instance))
    return touched


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    touched = _touched(session)
    if touched:
        session.info.setdefault(_PENDING, set()).update(touched)


@cache
def _upsert(dialect: str) -> Executable:
    """The upsert raising one (organization, role)'s version, a missing row starting at 2: built once per database,
    its values parameters. Built for each flush with the pairs written in, it was compiled on every create-user
    (6% of its samples: ``py-spy`` of ``bench.cpu_per_request ... create_user``)."""
    table = OrgRoleState.__table__
    assert isinstance(table, Table)
    statement = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.org_id, table.c.role_id],
        set_={"version": table.c.version + 1, "updated_at": statement.excluded.updated_at},
    )


def _parameters(touched: set[Pair]) -> dict[str, Any] | list[dict[str, Any]]:
    """``_upsert``'s parameters for ``touched``: one row's, or a list run as one executemany."""
    now = utcnow()
    rows = [
        {"org_id": org_id, "role_id": role_id, "version": 2, "created_at": now, "updated_at": now}
        for org_id, role_id in sorted(touched)  # one order everywhere: no deadlock between two writers
    ]
    return rows[0] if len(rows) == 1 else rows


async def bump(session: AsyncSession, touched: set[Pair]) -> None:
    """What ``_bump`` does after a flush, for rows written past the ORM (the importer)."""
    connection = await session.connection()
    await connection.execute(_upsert(connection.dialect.name), _parameters(touched))


@event.listens_for(Session, "after_flush")
def _bump(session: Session, _context: UOWTransaction) -> None:
    """Runs after the rows are written, so a role created in the same flush already exists."""
    touched: set[Pair] | None = session.info.pop(_PENDING, None)
    if touched:
        connection = session.connection()
        connection.execute(_upsert(connection.dialect.name), _parameters(touched))
