"""Membership rules: who may manage whom, the last owner, and what leaving an organization does."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import insert_for_users, record_for_user
from tenantry.core.memberships import repository
from tenantry.core.memberships.models import (
    MEMBERSHIP_ACTIVE,
    MEMBERSHIP_DISABLED,
    MEMBERSHIP_INVITED,
    Membership,
)
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import ALL_PERMISSIONS, OWNER
from tenantry.core.tokens.service import end_sessions_in_bulk, revoke_sessions
from tenantry.core.users import repository as users
from tenantry.core.users.models import USER_ACTIVE, USER_DELETED, USER_DISABLED, User
from tenantry.db.base import utcnow
from tenantry.db.engine import reading
from tenantry.db.versioning import write_all
from tenantry.errors import Conflict, NotFound, OrganizationNotFound, PermissionDenied
from tenantry.i18n import N_

LAST_OWNER = N_("the last owner of an organization cannot be removed, disabled or demoted")


@dataclass
class Member:
    """A user seen from one organization.

    While the membership waits for the account's consent, ``user`` is what the organization may see of
    the account (its email, nothing else: see ``email_only``); ``account`` is always the account itself,
    for the rules that need it.
    """

    user: User
    membership: Membership
    account: User = field(init=False)

    def __post_init__(self) -> None:
        self.account = self.user
        if self.membership.consent_pending:
            self.user = email_only(self.user, self.membership)

    @property
    def roles(self) -> list[Role]:
        return list(self.membership.roles)

    @property
    def permissions(self) -> frozenset[str]:
        return ALL_PERMISSIONS if self.user.platform_admin else roles.union_permissions(self.roles)


class AccountColumns(NamedTuple):
    """The account's columns a member's answer shows, read as a Core row."""

    id: str
    email: str
    first_name: str
    last_name: str
    status: str
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    locale: str | None
    avatar_url: str | None
    region: str | None
    settings: dict[str, Any]
    password_change_required: bool


class MembershipColumns(NamedTuple):
    """The membership's columns a member's answer shows, read as a Core row."""

    status: str
    attributes: dict[str, Any]
    consent_pending: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MemberRead:
    """A member for an answer that changes nothing: Core rows and role names, no ORM entity (``Member`` is the
    one to change). While the membership waits for the account's consent, ``account`` is ``email_only``'s."""

    account: AccountColumns
    membership: MembershipColumns
    roles: list[str]

    @classmethod
    def of(cls, account: AccountColumns, membership: MembershipColumns, roles: list[str]) -> "MemberRead":
        return cls(
            email_only_columns(account.id, account.email, membership) if membership.consent_pending else account,
            membership,
            roles,
        )


def email_only_columns(user_id: str, email: str, membership: Membership | MembershipColumns) -> AccountColumns:
    """The account as an organization whose invitation it has not accepted sees it: the email alone, the
    times the membership's, so that it reads like an account the organization has just created."""
    return AccountColumns(
        id=user_id,
        email=email,
        first_name="",
        last_name="",
        status=USER_ACTIVE,
        email_verified=False,
        created_at=membership.created_at,
        updated_at=membership.updated_at,
        last_login_at=None,
        locale=None,
        avatar_url=None,
        region=None,
        settings={},
        password_change_required=False,
    )


def email_only(user: User, membership: Membership) -> User:
    """``email_only_columns`` as a detached ``User``, never added to the session, its version a new account's
    first (a SCIM ETag combines it with the membership's)."""
    return User(
        **email_only_columns(user.id, user.email, membership)._asdict(),
        password_hash=None,
        platform_admin=False,
        version=1,
    )


async def record_for_account(
    session: AsyncSession,
    actor: Actor,
    action: str,
    org: Organization,
    user: User,
    details: dict[str, object] | None = None,
) -> None:
    """Audit what happened to an account in ``org`` there and in every other organization the account has
    joined (not those whose invitation it has not accepted), naming ``org``: each organization that shares
    the account hears of it."""
    record_for_user(session, actor, action, user.id, org_id=org.id, details=details)
    for membership in await repository.for_user(session, user.id):
        if membership.org_id != org.id and not membership.consent_pending:
            shared = {**(details or {}), "organization": org.id}
            record_for_user(session, actor, action, user.id, org_id=membership.org_id, details=shared)


async def get(session: AsyncSession, org: Organization, user_id: str, *, lock: bool = False) -> Member:
    """A live member of ``org``; 404 for anyone else, so ids from other organizations reveal nothing.

    ``lock``: the member is loaded to be changed, on any surface. The organization (``hold_owners``), then the
    membership, are held until the transaction ends (PostgreSQL), so that a change waits for a removal or an
    organization's deletion under way and then answers 404, instead of writing a row that is gone (a 500), and
    an If-Match check stays true until the change is stored. ``OWNERS`` rather than ``MEMBERS``, as the lock
    order says (``orgs.Hold``): the change may end in an owner check, which asked for ``OWNERS`` while holding
    the membership that an ``OWNERS`` holder (a group's change, a bulk removal) waited for."""
    if lock:
        await hold_owners(session, org)
        await repository.lock(session, org.id, user_id)
    found = await repository.member(session, org.id, user_id, fresh=lock)
    if found is None:
        raise NotFound("user not found")
    return Member(*found)


async def get_all(session: AsyncSession, org: Organization, user_ids: list[str], *, lock: bool = False) -> list[Member]:
    """``get`` for many members: the live members among ``user_ids``, in that order (the others left out); ``lock``:
    held to be changed (``lock_members``) and read as stored now."""
    if lock:
        await lock_members(session, org, user_ids)
    found = await repository.members(session, org.id, user_ids, fresh=lock)
    return [Member(*found[user_id]) for user_id in dict.fromkeys(user_ids) if user_id in found]


async def hold_owners(session: AsyncSession, org: Organization) -> None:
    """Hold the organization for a change of its members that may end in an owner check (``orgs.Hold.OWNERS``),
    before anything else of the organization is held (the lock order: ``orgs.Hold``); 404 once it is deleted."""
    await _hold_org(session, org, orgs.Hold.OWNERS)


async def lock_members(session: AsyncSession, org: Organization, user_ids: list[str]) -> None:
    """Hold the organization (``hold_owners``), then the memberships of ``user_ids`` in the order of their ids,
    for a transaction that changes several members: in the order of a request, two such transactions (or one
    and a member's own change) could each hold a member the other waits for."""
    await hold_owners(session, org)
    await repository.lock_all(session, org.id, sorted(set(user_ids)))


async def target(session: AsyncSession, org: Organization, user_id: str) -> Member:
    """The member a request acts on, on any surface: ``get``, held to be changed (``lock``) unless the request's
    unit of work only reads."""
    return await get(session, org, user_id, lock=not reading(session))


async def get_by_email(session: AsyncSession, org: Organization, email: str) -> Member:
    """``target`` by email address, in any letter case; 404 for anyone else."""
    user = await users.get_by_email(session, email)
    if user is None:
        raise NotFound("user not found")
    return await target(session, org, user.id)


def ensure_may_change_roles(actor: Actor) -> None:
    """Changing which roles a member holds needs ``users:roles`` in the organization, on every surface: the
    native API's route asks it of its caller; a route that changes roles along with other fields (a dialect's
    update) asks it here, when the roles do change."""
    if not actor.holds({"users:roles"}):
        raise PermissionDenied("requires the permission 'users:roles' in this organization")


def ensure_may_manage(actor: Actor, member: Member) -> None:
    """Nobody acts on a user who holds rights they lack (platform admins only by platform admins), nor on an
    account that has not accepted to join the organization."""
    if member.membership.consent_pending:
        raise PermissionDenied("the user has not accepted to join this organization yet")
    if member.user.platform_admin and not actor.platform_admin:
        raise PermissionDenied("only a platform admin may manage a platform admin")
    if not actor.holds(member.permissions):
        raise PermissionDenied("the user holds permissions you do not have")


async def ensure_account_exclusive(session: AsyncSession, actor: Actor, org: Organization, member: Member) -> None:
    """Account-wide changes (email, password) belong to an organization only when the account is only its own
    (invitations other organizations wait on do not count)."""
    if actor.platform_admin:
        return
    if await repository.other_org_count(session, member.user.id, org.id):
        raise PermissionDenied("the account also belongs to other organizations; only the user may change it")


async def _hold_org(session: AsyncSession, org: Organization, why: orgs.Hold) -> None:
    """``orgs.hold``; 404 once the organization is deleted (a deletion this waited for included)."""
    if not await orgs.hold(session, org.id, why):
        raise OrganizationNotFound("organization not found")


async def _ensure_owner_remains(session: AsyncSession, org: Organization, member: Member) -> None:
    await hold_owners(session, org)  # a member held to be changed (``get``) holds it already
    if await repository.active_owner_ids(session, org.id) == {member.user.id}:
        raise Conflict(LAST_OWNER)


async def create(
    session: AsyncSession, org: Organization, user: User, granted: list[Role], *, consent_pending: bool = False
) -> Membership:
    """The membership row; ``consent_pending`` makes it an invitation the account's owner must accept.

    The organization's own data starts empty and loaded, so that what a caller stores next changes the row
    (and its version) alike whichever way the membership came about."""
    await _hold_org(session, org, orgs.Hold.MEMBERS)  # a deletion under way deletes it, or it waits for it: 404
    status = MEMBERSHIP_ACTIVE if user.password_hash and not consent_pending else MEMBERSHIP_INVITED
    membership = Membership(
        org_id=org.id,
        user_id=user.id,
        status=status,
        roles=granted,
        consent_pending=consent_pending,
        external_id=None,
        profile={},
        attributes={},
    )
    session.add(membership)
    await session.flush()
    return membership


async def set_roles(session: AsyncSession, actor: Actor, org: Organization, member: Member, refs: list[str]) -> None:
    ensure_may_manage(actor, member)
    granted = await roles.resolve(session, org.id, refs)
    roles.ensure_grantable(actor, granted)
    if OWNER.id not in {role.id for role in granted}:
        await _ensure_owner_remains(session, org, member)
    member.membership.roles = granted
    member.membership.updated_at = utcnow()
    await session.flush()
    names = [role.name for role in granted]
    record_for_user(session, actor, "member.roles_set", member.user.id, org_id=org.id, details={"roles": names})


async def disable(session: AsyncSession, actor: Actor, org: Organization, member: Member) -> None:
    """Disable the membership; the account too when this organization is its only one."""
    ensure_may_manage(actor, member)
    if member.user.id == actor.user_id:
        raise Conflict(N_("you cannot disable yourself"))
    await _ensure_owner_remains(session, org, member)
    member.membership.status = MEMBERSHIP_DISABLED
    member.membership.updated_at = utcnow()
    if not await repository.other_org_count(session, member.user.id, org.id):
        member.user.status = USER_DISABLED
        await revoke_sessions(session, member.user)
    await session.flush()
    record_for_user(session, actor, "member.disabled", member.user.id, org_id=org.id)


async def disable_all(session: AsyncSession, actor: Actor, org: Organization, members: list[Member]) -> list[str]:
    """``disable`` for many members held to be changed (``get_all`` with ``lock``), in bulk; the ids of those it
    disabled, in the order given. Those already disabled, and those a rule keeps (``_disables``), are left as they
    are. The memberships change in one statement per thousand (``write_all``); the accounts left in no other
    organization are disabled and their sessions end in bulk (``end_sessions_in_bulk``: no lock per account, which
    thousands could not hold); each disabled member is recorded as ``disable`` records it."""
    owners = await repository.active_owner_ids(session, org.id)
    chosen = [member for member in members if _disables(actor, member, owners)]
    if not chosen:
        return []
    await write_all(session, [member.membership for member in chosen], status=MEMBERSHIP_DISABLED)
    disabled = [member.user.id for member in chosen]
    elsewhere = await repository.in_other_orgs(session, disabled, org.id)
    alone = [member.user for member in chosen if member.user.id not in elsewhere]
    await write_all(session, alone, status=USER_DISABLED)
    await end_sessions_in_bulk(session, alone)
    await insert_for_users(session, actor, "member.disabled", disabled, org_id=org.id)
    return disabled


def _disables(actor: Actor, member: Member, owners: set[str]) -> bool:
    """Whether ``disable_all`` disables ``member``: an active membership that ``disable`` would disable, one after
    the other (not the caller's own, nor someone above them, nor the last of the active ``owners``, from which a
    disabled owner is taken)."""
    if member.membership.status == MEMBERSHIP_DISABLED or member.user.id == actor.user_id:
        return False
    try:
        ensure_may_manage(actor, member)
    except PermissionDenied:
        return False
    if member.user.id in owners:
        if owners == {member.user.id}:
            return False
        owners.discard(member.user.id)
    return True


async def disable_new(session: AsyncSession, actor: Actor, org: Organization, member: Member) -> None:
    """A member created disabled (an identity provider's ``active: false``). An invitation the account's
    owner has not answered is recorded disabled too (it stays so once accepted), and reads as a new
    account disabled would, so that the answer does not tell the two apart; the account is untouched."""
    if not member.membership.consent_pending:
        await disable(session, actor, org, member)
        return
    member.membership.status = MEMBERSHIP_DISABLED
    member.membership.updated_at = utcnow()
    await session.flush()
    member.user.status = USER_DISABLED  # the detached view (``email_only``), as disabling a new account would
    member.user.version += 1
    record_for_user(session, actor, "member.disabled", member.user.id, org_id=org.id)


async def enable(session: AsyncSession, actor: Actor, org: Organization, member: Member) -> None:
    ensure_may_manage(actor, member)
    if member.membership.status == MEMBERSHIP_DISABLED:
        member.membership.status = MEMBERSHIP_ACTIVE if member.user.password_hash else MEMBERSHIP_INVITED
        member.membership.updated_at = utcnow()
    if member.user.status == USER_DISABLED and not await repository.other_org_count(session, member.user.id, org.id):
        member.user.status = USER_ACTIVE
    await session.flush()
    record_for_user(session, actor, "member.enabled", member.user.id, org_id=org.id)


def ensure_may_remove(actor: Actor, member: Member, active_owner_ids: set[str]) -> None:
    """The rule of removal, for ``remove`` and ``may_remove`` alike: an invitation not yet accepted may always
    be withdrawn; else nobody removes someone above them (``ensure_may_manage``, 403) nor the last owner
    (409). The permission ``users:delete`` is the route's policy."""
    if member.membership.consent_pending:
        return
    ensure_may_manage(actor, member)
    if active_owner_ids == {member.user.id}:
        raise Conflict(LAST_OWNER)


def may_remove(actor: Actor, member: Member, active_owner_ids: set[str]) -> bool:
    """Whether ``actor`` could remove ``member`` now (``users:delete`` and ``ensure_may_remove``), asked
    without acting: what a surface reports before the caller tries (eva's ``rules.deletable``)."""
    if not actor.holds({"users:delete"}):
        return False
    try:
        ensure_may_remove(actor, member, active_owner_ids)
    except (PermissionDenied, Conflict):
        return False
    return True


async def remove(session: AsyncSession, actor: Actor, org: Organization, member: Member) -> None:
    """Delete the membership (yours: you leave; an organization may always withdraw an invitation not yet
    accepted); soft-delete the account when it has no membership left, unless it was an invitation: the
    organization never held the account, which may have belonged to no organization before (a platform
    admin's, one whose organizations removed it), and withdrawing must not delete it."""
    owners: set[str] = set()
    invitation = member.membership.consent_pending
    if not invitation:
        await hold_owners(session, org)
        owners = await repository.active_owner_ids(session, org.id)
    ensure_may_remove(actor, member, owners)
    await session.delete(member.membership)
    await session.flush()
    record_for_user(session, actor, "member.removed", member.user.id, org_id=org.id)
    if not invitation:
        await delete_orphans(session, actor, [member.account])


async def delete_orphans(session: AsyncSession, actor: Actor, candidates: list[User]) -> None:
    """Soft-delete the accounts among ``candidates`` (members an organization held: not those it only invited)
    that have joined no organization any more: an invitation another organization sent keeps no account alive,
    and is withdrawn (``withdraw_invitations``). A platform admin's account belongs to the platform: no
    organization's end deletes it (nor withdraws its invitations). Their sessions end in bulk
    (``end_sessions_in_bulk``: no lock per account, which an organization of thousands of members could not
    hold).

    The invitations are held before the accounts are written, as the lock order says (``orgs.Hold``: membership
    rows, then accounts), and the accounts counted again: one that accepted an invitation while this waited for it
    has joined that organization, and stays."""
    orphan_ids = await repository.user_ids_without_membership(session, [user.id for user in candidates])
    invitations = await repository.lock_memberships_of(session, orphan_ids, invitations=True)
    orphans = set(await repository.user_ids_without_membership(session, orphan_ids))
    deleted = [
        user for user in candidates if user.id in orphans and user.status != USER_DELETED and not user.platform_admin
    ]
    ids = {user.id for user in deleted}
    await withdraw_invitations(session, actor, [invitation for invitation in invitations if invitation.user_id in ids])
    for user in deleted:
        user.status = USER_DELETED
        user.deleted_at = utcnow()
        record_for_user(session, actor, "user.deleted", user.id, org_id=None)
    await end_sessions_in_bulk(session, deleted)
    await session.flush()


async def withdraw_invitations(session: AsyncSession, actor: Actor, invitations: list[Membership]) -> None:
    """Withdraw invitations the accounts have not answered (an account's address changed, or it was deleted): each
    inviting organization hears of it (``member.invitation_withdrawn``), naming nobody of whoever caused it (another
    organization: the account's own)."""
    unnamed = Actor(request_id=actor.request_id)
    await repository.delete_all(session, invitations)
    for invitation in invitations:
        record_for_user(session, unnamed, "member.invitation_withdrawn", invitation.user_id, org_id=invitation.org_id)


async def ask_consent_again(session: AsyncSession, actor: Actor, user: User, org: Organization) -> list[Organization]:
    """The owner of the address took the account over through ``org``'s join link (``flows.ownership.take_over``):
    the organizations it had joined besides ``org`` made it theirs without the owner's consent (one of them chose
    its credentials). Each membership waits for the owner's answer again, as an invitation (``consent_pending``,
    accepted or declined on "My account"), and its organization sees the account's email alone meanwhile; audited
    there (``member.consent_required``). Those organizations, by id."""
    asked: list[Organization] = []
    for membership in await repository.lock_memberships_of(session, [user.id], invitations=False):
        joined = await orgs.get_by_ref(session, membership.org_id)
        if membership.org_id == org.id or joined is None:
            continue
        membership.consent_pending = True
        if membership.status != MEMBERSHIP_DISABLED:  # disabled stays so once accepted, as for an invitation
            membership.status = MEMBERSHIP_INVITED
        membership.updated_at = utcnow()
        record_for_user(session, actor, "member.consent_required", user.id, org_id=membership.org_id)
        asked.append(joined)
    await session.flush()
    return asked
