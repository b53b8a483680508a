"""Counted, sorted pages of the accounts an organization could add, and the owner to name.

Pages of its members are the member directory's (``core.memberships.directory``).
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.fields import storable
from tenantry.core.memberships import directory
from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships.directory import SortKey
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE
from tenantry.core.orgs.models import Organization
from tenantry.core.roles.service import union_permissions
from tenantry.core.users.models import User

READ_USERS = "users:read"


def _searchable(term: str | None) -> bool:
    """False when no stored text can contain ``term`` (NUL characters, unpaired surrogates)."""
    try:
        storable(term or "")
    except ValueError:
        return False
    return True


async def orgs_where_users_visible(session: AsyncSession, actor: Actor, besides: str) -> list[str] | None:
    """Organizations other than ``besides`` where the actor may read users; None means all of them.

    Platform admins see every account; a user sees through their active memberships whose roles grant
    ``users:read``; an API key belongs to one organization and sees through none, and so does a credential
    bound to one (an impersonation, an application's token): through it, the organization it acts in would
    read the users of the other organizations of the account it acts as.
    """
    if actor.platform_admin:
        return None
    if actor.user_id is None or actor.bound_org_id is not None:
        return []
    own = [
        membership
        for membership in await memberships.for_user(session, actor.user_id)
        if membership.org_id != besides and membership.status == MEMBERSHIP_ACTIVE
    ]
    granted = await memberships.roles_by_membership(session, [membership.id for membership in own])
    return [membership.org_id for membership in own if READ_USERS in union_permissions(granted[membership.id])]


async def addable_page(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    term: str | None,
    order: Sequence[SortKey],
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[User]]:
    """Accounts the actor could add to ``org``: not members yet, matching ``term`` (email or names).

    Only accounts the actor can already see elsewhere are candidates (see ``orgs_where_users_visible``),
    so the search reveals nobody from organizations the actor has no business in.
    """
    through = await orgs_where_users_visible(session, actor, org.id)
    if through == [] or not _searchable(term):
        return 0, []
    total = await directory.count_addable(session, org.id, term, through)
    if limit <= 0 or offset >= total:
        return total, []
    users = await directory.sorted_addable(session, org.id, term, through, order, offset=offset, limit=limit)
    return total, users


async def organization_owner(session: AsyncSession, org: Organization) -> str | None:
    """The one owner to name where an API has room for only one (the longest-standing)."""
    return await memberships.first_owner_id(session, org.id)
