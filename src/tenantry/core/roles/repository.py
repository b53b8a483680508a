from sqlalchemy import BindParameter, ColumnElement, bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.apikeys.models import ApiKey, api_key_roles
from tenantry.core.memberships.models import membership_roles
from tenantry.core.partners.models import PartnerLink
from tenantry.core.resources.models import membership_resource_roles
from tenantry.core.roles.models import Role


def _visible_in(org_id: str) -> ColumnElement[bool]:
    return or_(Role.org_id == org_id, Role.org_id.is_(None))


async def list_for_org(session: AsyncSession, org_id: str) -> list[Role]:
    statement = select(Role).where(_visible_in(org_id)).order_by(Role.builtin.desc(), Role.name)
    return list(await session.scalars(statement))


_REFS: BindParameter[list[str]] = bindparam("refs", expanding=True)
# Every create and role change resolves roles: the statement is built once (building it was a third of its cost).
_FIND = select(Role).where(
    or_(Role.org_id == bindparam("org_id"), Role.org_id.is_(None)), or_(Role.id.in_(_REFS), Role.name.in_(_REFS))
)


async def find(session: AsyncSession, org_id: str, refs: list[str]) -> list[Role]:
    """Roles visible in the organization whose id or name is among ``refs``."""
    return list(await session.scalars(_FIND, {"org_id": org_id, "refs": refs}))


async def name_taken(session: AsyncSession, org_id: str, name: str, *, besides: str | None = None) -> bool:
    statement = select(Role.id).where(_visible_in(org_id), Role.name == name)
    if besides is not None:
        statement = statement.where(Role.id != besides)
    return (await session.scalar(statement)) is not None


def _revoked_keys() -> ColumnElement[bool]:
    return api_key_roles.c.api_key_id.in_(select(ApiKey.id).where(ApiKey.revoked_at.is_not(None)))


async def grant_count(session: AsyncSession, role_id: str) -> int:
    """How many times the role is held: by members (also per resource), live API keys and partner links."""
    members = select(func.count()).select_from(membership_roles).where(membership_roles.c.role_id == role_id)
    keys = select(func.count()).where(api_key_roles.c.role_id == role_id, ~_revoked_keys())
    partners = select(func.count()).select_from(PartnerLink).where(PartnerLink.role_id == role_id)
    scoped = select(func.count()).where(membership_resource_roles.c.role_id == role_id)
    counts = [int(await session.scalar(statement) or 0) for statement in (members, keys, partners, scoped)]
    return sum(counts)


async def release_from_revoked_keys(session: AsyncSession, role_id: str) -> None:
    """Drop the role from revoked API keys, whose rows would otherwise keep it from being deleted."""
    await session.execute(delete(api_key_roles).where(api_key_roles.c.role_id == role_id, _revoked_keys()))
