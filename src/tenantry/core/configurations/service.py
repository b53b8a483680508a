"""Configurations: a user's JSON settings in an organization, one organization-wide and one per resource."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.configurations.models import Configuration
from tenantry.core.memberships import service as memberships
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import grants as scoped
from tenantry.core.resources import service as resources
from tenantry.core.resources.models import BOT, Resource
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, NotFound, PermissionDenied


async def get(session: AsyncSession, org_id: str, user_id: str, resource: Resource | None) -> Configuration | None:
    statement = select(Configuration).where(Configuration.org_id == org_id, Configuration.user_id == user_id)
    if resource is None:
        statement = statement.where(Configuration.resource_id.is_(None))
    else:
        statement = statement.where(Configuration.resource_id == resource.id)
    return (await session.scalars(statement)).first()


async def put(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    user_id: str,
    resource: Resource | None,
    document: dict[str, Any],
) -> tuple[Configuration, bool]:
    """Store the user's document (replacing the one there); True when it is new."""
    configuration = await get(session, org.id, user_id, resource)
    created = configuration is None
    if configuration is None:
        configuration = Configuration(org_id=org.id, user_id=user_id, resource_id=resource.id if resource else None)
        session.add(configuration)
    configuration.document = document
    configuration.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict("the configuration was stored by another request at the same time; retry") from error
    record_for_user(
        session,
        actor,
        "configuration.created" if created else "configuration.replaced",
        user_id,
        org_id=org.id,
        details={"resource_id": resource.id if resource else None},
    )
    return configuration, created


async def usable_bot(session: AsyncSession, actor: Actor, org: Organization, ref: str) -> Resource:
    """The bot ``ref`` of ``org``, when the caller may use it: organization-wide ``resources:write`` or a
    role granted on it (404 for no such bot, 403 without either)."""
    bot = (await resources.find_many(session, org.id, {ref})).get(ref)
    if bot is None or bot.type != BOT:
        raise NotFound(f"bot {ref} not found")
    if actor.holds({"resources:write"}):
        return bot
    member = await memberships.get(session, org, actor.user_id or "")
    if not await scoped.roles_on(session, member.membership.id, bot):
        raise PermissionDenied(f"you hold no role on bot {ref}")
    return bot
