from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.resources.models import Resource, membership_resource_roles
from tenantry.core.roles.models import Role

_CHUNK = 1000  # refs per IN list: well under SQLite's bound on bound parameters


async def find(session: AsyncSession, org_id: str, refs: Iterable[str]) -> dict[str, Resource]:
    """The organization's resources named by id or external id, keyed by every ref that names one."""
    wanted = sorted(set(refs))
    found: dict[str, Resource] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        statement = select(Resource).where(
            Resource.org_id == org_id, or_(Resource.id.in_(chunk), Resource.external_id.in_(chunk))
        )
        for resource in await session.scalars(statement):
            found[resource.id] = resource
            if resource.external_id is not None:
                found[resource.external_id] = resource
    return {ref: found[ref] for ref in wanted if ref in found}


async def page(
    session: AsyncSession,
    org_id: str,
    *,
    type_: str | None,
    parent_id: str | None,
    active: bool | None,
    after: str | None,
    limit: int,
) -> list[Resource]:
    """The organization's resources matching the filters, in id order, continuing after ``after``."""
    statement = select(Resource).where(Resource.org_id == org_id)
    if type_ is not None:
        statement = statement.where(Resource.type == type_)
    if parent_id is not None:
        statement = statement.where(Resource.parent_id == parent_id)
    if active is not None:
        statement = statement.where(Resource.active.is_(active))
    if after is not None:
        statement = statement.where(Resource.id > after)
    return list(await session.scalars(statement.order_by(Resource.id).limit(limit)))


async def external_id_taken(session: AsyncSession, org_id: str, external_id: str, *, besides: str | None) -> bool:
    statement = select(Resource.id).where(Resource.org_id == org_id, Resource.external_id == external_id)
    if besides is not None:
        statement = statement.where(Resource.id != besides)
    return (await session.scalar(statement)) is not None


async def child_count(session: AsyncSession, resource_id: str) -> int:
    return int(await session.scalar(select(func.count()).where(Resource.parent_id == resource_id)) or 0)


async def ancestors(session: AsyncSession, resource: Resource) -> list[Resource]:
    """The resource's parent, grandparent, ... (trees are shallow: one query per level)."""
    chain: list[Resource] = []
    seen = {resource.id}
    parent_id = resource.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = await session.get(Resource, parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return chain


async def scoped_grants(session: AsyncSession, membership_ids: list[str]) -> list[tuple[str, Role, Resource]]:
    """(membership id, role, resource) of every scoped grant of the given memberships."""
    rows: list[tuple[str, Role, Resource]] = []
    for start in range(0, len(membership_ids), _CHUNK):
        chunk = membership_ids[start : start + _CHUNK]
        statement = (
            select(membership_resource_roles.c.membership_id, Role, Resource)
            .join(Role, Role.id == membership_resource_roles.c.role_id)
            .join(Resource, Resource.id == membership_resource_roles.c.resource_id)
            .where(membership_resource_roles.c.membership_id.in_(chunk))
            .order_by(Resource.name, Resource.id, Role.name)
        )
        rows.extend(
            (membership_id, role, resource) for membership_id, role, resource in await session.execute(statement)
        )
    return rows


async def grant_count(session: AsyncSession, role_id: str) -> int:
    statement = select(func.count()).where(membership_resource_roles.c.role_id == role_id)
    return int(await session.scalar(statement) or 0)
