import enum

from sqlalchemy import BindParameter, ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tenantry.core.memberships.models import Membership
from tenantry.core.orgs.models import Organization, live_org

_BY_REF = aliased(Organization, name="by_ref")
_LIVE = live_org(_BY_REF)
"""Written into the text: SQLite uses the partial index on live slugs only for a condition it can read as its own
(a value rendered at each execution, ``literal_execute``, cost 15 µs a statement)."""


def matches_ref(ref: str | BindParameter[str]) -> ColumnElement[bool]:
    """A live organization whose id or slug is ``ref`` (an id never matches a slug: slugs cannot look like ids).

    Written as the id that one of two lookups finds, each by its own index: SQLite read ``id = :ref OR slug =
    :ref`` by scanning every organization (the slug's index is partial, which its OR plan does not use), on every
    request a route under an organization authorizes (1,022 organizations: 0.068 -> 0.007 ms a statement)."""
    by_id = select(_BY_REF.id).where(_BY_REF.id == ref, _LIVE).scalar_subquery()
    by_slug = select(_BY_REF.id).where(_BY_REF.slug == ref, _LIVE).scalar_subquery()
    return Organization.id == func.coalesce(by_id, by_slug)


async def get_by_ref(session: AsyncSession, ref: str) -> Organization | None:
    """A live organization by id or by slug."""
    return (await session.scalars(select(Organization).where(matches_ref(ref)))).first()


class Hold(enum.Enum):
    """Why a transaction holds an organization's row until it ends, each in its own row lock mode (PostgreSQL;
    SQLite's writers take turns already).

    The one lock order of a change in an organization, on every surface; two transactions taking two of these in
    opposite orders wait for each other until PostgreSQL ends one ("deadlock detected", a 500):
    1. the organization's row, first, in the strongest mode the transaction will need: a change that may end in
       an owner check (a member changed, disabled or removed, a role's holders changed, a partner's accounts
       disabled) takes ``OWNERS`` up front (``memberships.service.hold_owners``), never ``MEMBERS`` and later
       ``OWNERS``, which waited for an ``OWNERS`` holder that waited for a row it held;
    2. the role states it changes (``provisioning.service.lock_role``);
    3. membership rows, several in the order of their user ids (``memberships.service.lock_members``); then those
       of other organizations an account has not answered yet, in the order of user ids and organizations' ids:
       an answer holds its invitation (``joining``), and an account deleted as an orphan has its invitations
       withdrawn (``memberships.service.delete_orphans``), before either writes the account;
    4. accounts' locks (``lockout.one_at_a_time``: ending sessions, an address), before an account's row.
    Under ``OWNERS`` a role's new version (``grant_versions``) may be written after a membership: every other
    change of the organization's members waits for ``OWNERS`` first, and a new membership (``MEMBERS``) is seen by
    nobody until it commits.

    ``MEMBERS`` (FOR KEY SHARE): a member is added or changed, and the organization must stay meanwhile; any
    number at once. ``OWNERS`` (FOR NO KEY UPDATE): who owns the organization may change; one at a time, beside
    the changes of other members (a member change that turns into an owner change holds both, and waits for
    nobody else's ``MEMBERS``). ``DELETION`` (FOR UPDATE): waits for all of them, and holds them off until the
    organization is gone; they then find it deleted."""

    MEMBERS = "members"
    OWNERS = "owners"
    DELETION = "deletion"


_MODES: dict[Hold, tuple[bool, bool]] = {  # (read, key_share), as with_for_update takes them
    Hold.MEMBERS: (True, True),
    Hold.OWNERS: (False, True),
    Hold.DELETION: (False, False),
}


def held(org_id: str, why: Hold) -> Select[str]:
    """The statement locking the organization's row for ``why`` (its id while it is live)."""
    read, key_share = _MODES[why]
    return (
        select(Organization.id)
        .where(Organization.id == org_id, live_org())
        .with_for_update(read=read, key_share=key_share)
    )


async def hold(session: AsyncSession, org_id: str, why: Hold) -> bool:
    """Lock the organization's row for ``why`` until the transaction ends; whether it is live. A deletion that
    committed while this waited reads as not live: PostgreSQL checks the row it waited for again."""
    return await session.scalar(held(org_id, why)) is not None


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    statement = select(Organization.id).where(Organization.slug == slug, live_org())
    return (await session.scalar(statement)) is not None


async def list_page(
    session: AsyncSession, *, member_id: str | None, after: str | None, limit: int
) -> list[Organization]:
    """Live organizations by id; only those ``member_id`` belongs to when given."""
    statement = select(Organization).where(live_org())
    if member_id is not None:
        statement = statement.join(Membership, Membership.org_id == Organization.id).where(
            Membership.user_id == member_id, Membership.consent_pending.is_(False)
        )
    if after is not None:
        statement = statement.where(Organization.id > after)
    return list(await session.scalars(statement.order_by(Organization.id).limit(limit)))
