"""The "my account" page's reads and writes on the signed-in user's own account."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.memberships.models import Membership
from tenantry.core.orgs.models import Organization, live_org
from tenantry.core.users.models import User
from tenantry.db.base import utcnow


@dataclass(frozen=True)
class OwnMembership:
    org_name: str
    org_slug: str
    roles: list[str]
    status: str


async def memberships_of(session: AsyncSession, user: User) -> list[OwnMembership]:
    rows = await session.execute(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.org_id)
        .where(
            Membership.user_id == user.id,
            Membership.consent_pending.is_(False),
            live_org(),
        )
        .options(selectinload(Membership.roles))
        .order_by(Organization.name)
    )
    return [
        OwnMembership(org.name, org.slug, [role.name for role in membership.roles], membership.status)
        for membership, org in rows
    ]


async def update_own_profile(session: AsyncSession, actor: Actor, user: User, first_name: str, last_name: str) -> None:
    changed = sorted(
        name for name, value in (("first_name", first_name), ("last_name", last_name)) if getattr(user, name) != value
    )
    if not changed:
        return
    user.first_name, user.last_name = first_name, last_name
    user.updated_at = utcnow()
    await session.flush()
    details = {"fields": changed}
    record_for_user(session, actor, "user.updated", user.id, org_id=None, details=details)
