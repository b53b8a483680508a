"""Users of an organization: create, read, search, change profiles and passwords."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record, record_for_user
from tenantry.core.credentials import hashes, lockout
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.credentials.policy import PasswordPolicy, policy_for
from tenantry.core.flows.context import Flows
from tenantry.core.memberships import directory, joining
from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships import service as membership_rules
from tenantry.core.memberships.directory import MemberCriteria
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, MEMBERSHIP_DISABLED, MEMBERSHIP_INVITED, Membership
from tenantry.core.memberships.service import AccountColumns, Member, MemberRead, MembershipColumns
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import grants as resource_grants
from tenantry.core.resources.grants import Grant
from tenantry.core.roles import service as roles
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.core.tokens.service import revoke_sessions
from tenantry.core.users import email_change, repository
from tenantry.core.users.email_change import SET_PASSWORD
from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import USER_DISABLED, User
from tenantry.core.users.schemas import PasswordSet, UserCreate, UserOut, UserUpdate
from tenantry.db.base import utcnow
from tenantry.db.ids import new_id
from tenantry.errors import AlreadyExists, FieldError, InvalidInput, PermissionDenied
from tenantry.i18n import N_

_EMAIL_TAKEN = N_("an account with this email already exists")


def displayed_status(user: User | AccountColumns, membership: Membership | MembershipColumns) -> str:
    if user.status == USER_DISABLED or membership.status == MEMBERSHIP_DISABLED:
        return "disabled"
    return "invited" if membership.status == MEMBERSHIP_INVITED else "active"


def member_out(member: Member | MemberRead) -> UserOut:
    """The answer about a member, from the ORM entities a change loaded or the rows a read did."""
    return UserOut(**member_fields(member))


def member_fields(member: Member | MemberRead) -> dict[str, Any]:
    """``member_out``'s fields, in ``UserOut``'s order, as values of the types it holds: what a page of members
    is serialized from, without a model per member."""
    if isinstance(member, MemberRead):
        user: User | AccountColumns = member.account
        roles_held = member.roles
    else:
        user, roles_held = member.user, [role.name for role in member.roles]
    membership = member.membership
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "status": displayed_status(user, membership),
        "email_verified": user.email_verified,
        "roles": roles_held,
        "membership_status": membership.status,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
        "locale": user.locale,
        "avatar_url": user.avatar_url,
        "attributes": membership.attributes,
        "region": user.region,
        "settings": user.settings,
        "password_change_required": user.password_change_required,
    }


async def _flush_unique_email(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise AlreadyExists(_EMAIL_TAKEN) from error


async def create_first_platform_admin(session: AsyncSession, user: User, *, another: bool = False) -> User:
    """Store the platform admin ``tenantry bootstrap`` makes; 409 when one exists already, unless ``another``
    says that a further platform admin is wanted (so a bootstrap run twice by mistake adds nobody)."""
    if not another and await repository.platform_admin_exists(session):
        raise AlreadyExists(
            "a platform admin exists already: pass --add-platform-admin to add another (with a new organization)"
        )
    user.platform_admin = True
    return await create_account(session, user)


async def create_account(session: AsyncSession, user: User) -> User:
    """Store a new account; 409 when a live account already has its email (in any spelling: ``emailkey``)."""
    if await repository.get_by_email(session, user.email) is not None:
        raise AlreadyExists(_EMAIL_TAKEN)
    session.add(user)
    await _flush_unique_email(session)
    return user


async def create(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    payload: UserCreate,
    passwords: Passwords,
    *,
    invite_with: Flows | None = None,
    flows_for_consent: Flows | None = None,
    policy: PasswordPolicy | None = None,
    scoped: Sequence[Grant] = (),
) -> Member:
    """Create an account and its membership; without a password the user is invited.

    With ``invite_with``, a user created without a password is mailed an invitation link to set one;
    callers whose users need no mail (their address is taken as confirmed) leave it out. ``policy``
    replaces the organization's password rules where a dialect promises its vendor's. ``scoped``: roles on
    resources the membership holds besides its own (``grants.grant_chosen``). An address that already has an
    account attaches that account (``joining.attach``: an invitation its owner must accept, holding the
    roles and grants chosen here; the account's fields and password given here are not applied to it).
    """
    granted = await roles.resolve(session, org.id, payload.roles or [DEFAULT_ROLE.name])
    roles.ensure_grantable(actor, [*granted, *(grant.role for grant in scoped)])
    # Everything that may refuse the request, and the hashing, happen alike for a known and an unknown
    # address: neither the answer nor its time tells whether an account exists.
    if payload.password is not None:
        context = [payload.email, payload.first_name, payload.last_name, org.name, org.slug]
        (policy or policy_for(org)).check(payload.password, context=context)
    imported = _imported(payload.password_hash) if payload.password_hash is not None else None
    # Creates of one address are decided one at a time (PostgreSQL), each after the one before it committed: two
    # organizations adding a new address at once get what one after the other gets (an account, then an
    # invitation to it), not a 409 saying that the address has an account. The address's lock comes before the
    # organization's row and its memberships' (``lockout.one_at_a_time``, ``orgs.repository.Hold``: one order).
    await lockout.one_at_a_time(session, lockout.account_key(payload.email))
    existing = await repository.get_by_email(session, payload.email)
    if existing is not None:
        flows = invite_with or flows_for_consent
        if flows is None or await memberships.get(session, org.id, existing.id) is not None:
            raise AlreadyExists(_EMAIL_TAKEN)  # a member here already: the organization knows the address
        if payload.password is not None:
            await passwords.hash(payload.password)  # discarded: the account's password stays its owner's
        member = await joining.attach(session, actor, org, existing, granted, flows, scoped=scoped)
        member.membership.attributes = payload.attributes
        await session.flush()
        _show_as_submitted(member, payload)
        return member
    password_hash = await passwords.hash(payload.password) if payload.password is not None else imported
    user = User(
        id=new_id(),  # now, not at the flush: the membership refers to it, and both rows go in one flush
        email=payload.email,
        first_name=payload.first_name,
        last_name=payload.last_name,
        locale=payload.locale,
        avatar_url=payload.avatar_url,
        region=payload.region,
        settings=payload.settings,
        email_verified=payload.email_verified,
        password_change_required=payload.password_change_required,
        password_hash=password_hash,
    )
    session.add(user)  # the address was looked up above under its lock; an account made without it fails: 409
    try:
        membership = await membership_rules.create(session, org, user, granted)
    except IntegrityError as error:
        raise AlreadyExists(_EMAIL_TAKEN) from error
    membership.attributes = payload.attributes
    record(session, actor, "user.created", org_id=org.id, target_type="user", target_id=user.id)
    member = Member(user, membership)
    await resource_grants.grant_chosen(session, actor, org, member, scoped)
    if invite_with is not None and user.password_hash is None:
        from tenantry.core.flows.invitations import send_invitation  # imports this module

        await send_invitation(session, invite_with, actor, org, user, new_account=True)
    return member


def _show_as_submitted(member: Member, payload: UserCreate) -> None:
    """An invitation the account's owner has not accepted shows the inviting organization what it submitted,
    as the account it would have created for a new address: never the owner's own fields, and the same
    values whether the address had an account or not. Only the detached view changes (``email_only``)."""
    if not member.membership.consent_pending:
        return
    shown = member.user
    shown.email = payload.email
    for name in _SUBMITTED_FIELDS:
        setattr(shown, name, getattr(payload, name))


_SUBMITTED_FIELDS = (
    "first_name",
    "last_name",
    "locale",
    "avatar_url",
    "region",
    "settings",
    "email_verified",
    "password_change_required",
)


def _imported(password_hash: str) -> str:
    """An imported hash, kept as it is once its form and cost are accepted (422 otherwise)."""
    try:
        hashes.scheme_of(password_hash)
    except hashes.UnsupportedHash as error:
        raise InvalidInput([FieldError("password_hash", str(error))]) from None
    return password_hash


async def _criteria(
    session: AsyncSession, org: Organization, q: str | None, status: str | None, role: str | None
) -> MemberCriteria:
    role_id = (await roles.resolve(session, org.id, [role], field="role"))[0].id if role else None
    return MemberCriteria(terms=(q,) if q else (), status=status, role_id=role_id)


async def page(
    session: AsyncSession,
    org: Organization,
    *,
    after: str | None,
    limit: int,
    q: str | None = None,
    status: str | None = None,
    role: str | None = None,
) -> tuple[list[Member], str | None]:
    """One page of members, as entities, and the id to continue after (None on the last page); without a
    filter, every member (exports, telm's list)."""
    criteria = await _criteria(session, org, q, status, role)
    return await directory.page_after(session, org.id, criteria, after=after, limit=limit)


async def read_page(
    session: AsyncSession,
    org: Organization,
    *,
    q: str | None,
    status: str | None,
    role: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """``page`` as the answers about its members (``member_fields``), read in one statement without ORM
    entities."""
    criteria = await _criteria(session, org, q, status, role)
    members, after = await directory.read_page_after(session, org.id, criteria, after=after, limit=limit)
    return [member_fields(member) for member in members], after


async def count(
    session: AsyncSession, org: Organization, *, q: str | None, status: str | None, role: str | None, cap: int
) -> int:
    """How many members ``page`` would list over all its pages; filtered, counted up to ``cap + 1`` only."""
    criteria = await _criteria(session, org, q, status, role)
    return await directory.count(session, org.id, criteria, cap=cap)


async def update(session: AsyncSession, actor: Actor, org: Organization, member: Member, payload: UserUpdate) -> None:
    """Change the member: ``attributes`` are the organization's own (on the membership); the account's
    fields only when no other organization shares the account (``ensure_account_exclusive``)."""
    membership_rules.ensure_may_manage(actor, member)
    changes = payload.model_dump(exclude_unset=True)
    attributes = changes.pop("attributes", None)
    account_changed = any(getattr(member.user, name) != value for name, value in changes.items())
    user, old_email = member.user, member.user.email
    new_email = payload.email is not None and email_key(payload.email) != user.email_key
    if new_email:
        email_change.ensure_may_change(actor, user)
    if account_changed:
        await membership_rules.ensure_account_exclusive(session, actor, org, member)
    if new_email:
        if await repository.get_by_email(session, payload.email or "") is not None:
            raise AlreadyExists(_EMAIL_TAKEN)
        # The old address's lock before the account's row is written: a second step answered meanwhile holds
        # it, and the change ends that challenge (lockout.one_at_a_time: one lock order).
        await lockout.one_at_a_time(session, lockout.account_key(old_email))
        user.email_verified = False
        user.credentials_proven = False  # the new address has not chosen the password: its owner must prove it
    for field, value in changes.items():
        setattr(user, field, value)
    if attributes is not None:
        member.membership.attributes = attributes
        member.membership.updated_at = utcnow()
        changes["attributes"] = attributes
    if account_changed:
        user.updated_at = utcnow()
    await _flush_unique_email(session)
    if new_email:
        await email_change.changed(session, actor, org, user, old_email)
    record_for_user(session, actor, "user.updated", user.id, org_id=org.id, details={"fields": sorted(changes)})


async def _store_password(session: AsyncSession, user: User, password: str, passwords: Passwords) -> None:
    """Set a new password: old sessions end, and invitations waiting for a password become memberships
    (not those waiting for the user's consent)."""
    user.password_hash = await passwords.hash(password)
    user.updated_at = utcnow()
    await revoke_sessions(session, user)
    for membership in await memberships.for_user(session, user.id):
        if membership.status == MEMBERSHIP_INVITED and not membership.consent_pending:
            membership.status = MEMBERSHIP_ACTIVE


def ensure_may_set_password(actor: Actor) -> None:
    """Choosing another user's password (and so signing in as them) takes ``users:set_password``."""
    if not actor.holds({SET_PASSWORD}):
        raise PermissionDenied(f"setting another user's password requires {SET_PASSWORD!r}")


async def set_password(
    session: AsyncSession, actor: Actor, org: Organization, member: Member, payload: PasswordSet, passwords: Passwords
) -> None:
    """An administrator sets a user's password, optionally requiring a change at next login: only with
    ``users:set_password``, whatever surface asks (SCIM's ``password`` included)."""
    ensure_may_set_password(actor)
    membership_rules.ensure_may_manage(actor, member)
    await membership_rules.ensure_account_exclusive(session, actor, org, member)
    user = member.user
    context = [user.email, user.first_name, user.last_name, org.name, org.slug]
    policy_for(org).check(payload.password, context=context)
    await _store_password(session, member.user, payload.password, passwords)
    member.user.password_change_required = payload.require_change
    member.user.credentials_proven = False  # chosen by an administrator, not by the address's owner
    await session.flush()
    record_for_user(
        session,
        actor,
        "user.password_set",
        member.user.id,
        org_id=org.id,
        details={"require_change": payload.require_change},
    )


async def store_password(session: AsyncSession, user: User, password: str, passwords: Passwords) -> None:
    """Set a new password for a user who proved who they are another way (a mailed link, a change ticket)."""
    await _store_password(session, user, password, passwords)


async def get_live(session: AsyncSession, user_id: str) -> User | None:
    """A live (not deleted) account by id."""
    return await repository.get_live(session, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The live account with this email address (in any letter case), if any."""
    return await repository.get_by_email(session, email)
