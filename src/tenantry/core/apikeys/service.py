"""API keys: organization-bound, shown once, kept only as a hash, checked in constant time."""

import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tenantry.core.actor import Actor
from tenantry.core.apikeys.models import ApiKey
from tenantry.core.apikeys.schemas import ApiKeyCreate, ApiKeyOut
from tenantry.core.audit.service import record
from tenantry.core.orgs.models import Organization, live_org
from tenantry.core.roles import service as roles
from tenantry.core.tokens.service import digest
from tenantry.db.base import utcnow
from tenantry.errors import NotFound

KEY_PREFIX = "tnt_"
_KEY_SHAPE = re.compile(r"^tnt_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    key: str


def looks_like_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def key_out(api_key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=api_key.id,
        name=api_key.name,
        roles=[role.name for role in api_key.roles],
        prefix=f"{KEY_PREFIX}{api_key.lookup}",
        created_at=api_key.created_at,
    )


async def create(session: AsyncSession, actor: Actor, org: Organization, payload: ApiKeyCreate) -> NewKey:
    granted = await roles.resolve(session, org.id, payload.roles)
    roles.ensure_grantable(actor, granted)
    lookup = secrets.token_hex(8)
    key = f"{KEY_PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        org_id=org.id, name=payload.name, lookup=lookup, key_hash=digest(key), created_by=actor.user_id, roles=granted
    )
    session.add(api_key)
    await session.flush()
    record(session, actor, "api_key.created", org_id=org.id, target_type="api_key", target_id=api_key.id)
    return NewKey(api_key, key)


async def page(
    session: AsyncSession, org: Organization, *, after: str | None, limit: int
) -> tuple[list[ApiKey], str | None]:
    statement = select(ApiKey).where(ApiKey.org_id == org.id, ApiKey.revoked_at.is_(None))
    if after:
        statement = statement.where(ApiKey.id > after)
    statement = statement.order_by(ApiKey.id).limit(limit + 1).options(selectinload(ApiKey.roles))
    rows = list(await session.scalars(statement))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


async def get(session: AsyncSession, org: Organization, key_id: str) -> ApiKey:
    """A live key of ``org`` (with its roles); 404 for a revoked key or another organization's."""
    statement = (
        select(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.org_id == org.id, ApiKey.revoked_at.is_(None))
        .options(selectinload(ApiKey.roles))
    )
    api_key = (await session.scalars(statement)).first()
    if api_key is None:
        raise NotFound("API key not found")
    return api_key


async def revoke(session: AsyncSession, actor: Actor, org: Organization, key_id: str) -> None:
    api_key = await get(session, org, key_id)
    api_key.revoked_at = utcnow()
    await session.flush()
    record(session, actor, "api_key.revoked", org_id=org.id, target_type="api_key", target_id=api_key.id)


async def authenticate(session: AsyncSession, presented: str) -> ApiKey | None:
    """The live key matching ``presented`` (with its roles), or None."""
    shape = _KEY_SHAPE.fullmatch(presented)
    if shape is None:
        return None
    statement = (
        select(ApiKey)
        .join(Organization, Organization.id == ApiKey.org_id)
        .where(ApiKey.lookup == shape.group(1), ApiKey.revoked_at.is_(None), live_org())
        .options(selectinload(ApiKey.roles))
    )
    api_key = (await session.scalars(statement)).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest(presented)):
        return None
    return api_key
