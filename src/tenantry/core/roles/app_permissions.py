"""Application permissions: the application's own ``domain:action`` permissions, registered platform-wide
by a platform admin, which custom roles may hold beside Tenantry's own and tokens carry."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.roles.models import AppPermission
from tenantry.core.roles.schemas import AppPermissionCreate
from tenantry.errors import AlreadyExists


async def register(session: AsyncSession, actor: Actor, payload: AppPermissionCreate) -> AppPermission:
    if await session.scalar(select(AppPermission.id).where(AppPermission.name == payload.name)) is not None:
        raise AlreadyExists(f"the permission {payload.name!r} is already registered")
    permission = AppPermission(name=payload.name, description=payload.description)
    session.add(permission)
    await session.flush()
    record(session, actor, "permission.registered", org_id=None, target_type="permission", target_id=permission.id)
    return permission


async def all_registered(session: AsyncSession) -> list[AppPermission]:
    return list(await session.scalars(select(AppPermission).order_by(AppPermission.name).limit(10_000)))


async def registered(session: AsyncSession, names: set[str]) -> set[str]:
    """Which of ``names`` are registered application permissions."""
    if not names:
        return set()
    return set(await session.scalars(select(AppPermission.name).where(AppPermission.name.in_(sorted(names)))))
