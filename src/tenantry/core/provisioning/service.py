"""Provisioning from an identity provider (SCIM): members and roles, changed through the core's own rules.

Every change goes through the services the native API uses, so the same rules hold: nobody grants
rights they lack or manages someone above them, the last owner stays, an account another organization
shares keeps its email and password. What only provisioning knows (external ids, the profile) is
kept on the membership and on the role's state in the organization.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.flows.context import Flows
from tenantry.core.memberships import directory
from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships import service as membership_rules
from tenantry.core.memberships.directory import MemberCriteria
from tenantry.core.memberships.models import MEMBERSHIP_DISABLED
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import SCIM_SEND_INVITATIONS, Organization
from tenantry.core.provisioning import repository
from tenantry.core.provisioning.attributes import UserAttributes
from tenantry.core.provisioning.json_sql import json_sql
from tenantry.core.provisioning.schemas import MemberProvision, RoleProvision, RoleState
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import OrgRoleState, Role
from tenantry.core.roles.schemas import ProvisionedRoleCreate, ProvisionedRoleUpdate
from tenantry.core.users import repository as users
from tenantry.core.users import service as accounts
from tenantry.core.users.models import USER_DISABLED
from tenantry.core.users.schemas import Locale, PasswordSet, UserCreate, UserUpdate
from tenantry.errors import AlreadyExists, Conflict, FieldError, InvalidInput, NotFound

_LOCALE: TypeAdapter[str] = TypeAdapter(Locale)


def is_active(member: Member) -> bool:
    return member.user.status != USER_DISABLED and member.membership.status != MEMBERSHIP_DISABLED


async def create_member(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    payload: MemberProvision,
    passwords: Passwords,
    flows: Flows,
) -> Member:
    """A new account and its membership, or an existing account (same email) invited to join the organization
    (``joining.attach``: it joins once its owner accepts; its fields and password stay the owner's).

    A new account without a password is mailed an invitation when the organization's setting
    ``scim_send_invitations`` is on (off by default: the identity provider usually signs its users in).
    """
    existing = await users.get_by_email(session, payload.email)
    if existing is not None and await memberships.get(session, org.id, existing.id) is not None:
        raise AlreadyExists("a user with this userName already exists in this organization")
    account = UserCreate(
        email=payload.email,
        first_name=payload.first_name,
        last_name=payload.last_name,
        password=payload.password,
        locale=_language_of(payload.profile),
    )
    invite_with = flows if org.settings.get(SCIM_SEND_INVITATIONS) else None
    member = await accounts.create(
        session, actor, org, account, passwords, invite_with=invite_with, flows_for_consent=flows
    )
    member.membership.external_id = payload.external_id
    member.membership.profile = payload.profile
    await session.flush()
    if payload.active is False:
        await membership_rules.disable_new(session, actor, org, member)
    record_for_user(session, actor, "member.provisioned", member.user.id, org_id=org.id)
    return member


def _language_of(profile: dict[str, Any]) -> str | None:
    """A new account's language from the User resource: ``preferredLanguage`` (an Accept-Language value, RFC
    7643 4.1.1; its first tag) or ``locale``; None when neither names a tag the API would take."""
    for key in ("preferredLanguage", "locale"):
        value = profile.get(key)
        if isinstance(value, str):
            tag = value.split(",", 1)[0].split(";", 1)[0].strip()
            try:
                return _LOCALE.validate_python(tag)
            except ValidationError:
                continue
    return None


async def _update_account(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    member: Member,
    payload: MemberProvision,
    passwords: Passwords,
) -> None:
    # The fields and password of an account other organizations share are the user's own: provisioning
    # leaves them. An unchanged password is not set again, which would end the user's sessions.
    user = member.user
    password = payload.password
    if password is not None:  # first: the answer does not tell a key that may not set it whether the account is shared
        accounts.ensure_may_set_password(actor)
    if await memberships.other_org_count(session, user.id, org.id):
        return
    wanted = {"email": payload.email, "first_name": payload.first_name, "last_name": payload.last_name}
    changes = {field: value for field, value in wanted.items() if getattr(user, field) != value}
    if changes:
        await accounts.update(session, actor, org, member, UserUpdate.model_validate(changes))
    if password is not None and not await passwords.verify(user.password_hash, password):
        await accounts.set_password(session, actor, org, member, PasswordSet(password=password), passwords)


async def update_member(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    member: Member,
    payload: MemberProvision,
    passwords: Passwords,
) -> None:
    """Bring the member to ``payload``: account fields, external id and profile, then ``active``."""
    membership_rules.ensure_may_manage(actor, member)
    await _update_account(session, actor, org, member, payload, passwords)
    membership = member.membership
    if (membership.external_id, membership.profile) != (payload.external_id, payload.profile):
        membership.external_id = payload.external_id
        membership.profile = payload.profile
        await session.flush()
        record_for_user(session, actor, "member.profile_updated", member.user.id, org_id=org.id)
    if payload.active is not None and payload.active != is_active(member):
        change = membership_rules.enable if payload.active else membership_rules.disable
        await change(session, actor, org, member)


async def create_role(
    session: AsyncSession, actor: Actor, org: Organization, payload: RoleProvision, member_ids: Iterable[str]
) -> Role:
    """A custom role without permissions (an administrator gives it some), held by ``member_ids``."""
    role = await roles.create(session, actor, org, ProvisionedRoleCreate(name=payload.name))
    await _set_external_id(session, org, role, payload.external_id)
    await change_holders(session, actor, org, role, add=member_ids, remove=())
    return role


async def update_role(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    role: Role,
    payload: RoleProvision,
    *,
    add: Iterable[str],
    remove: Iterable[str],
) -> None:
    if payload.name != role.name:
        await roles.update(session, actor, org, role, ProvisionedRoleUpdate(name=payload.name))
    await _set_external_id(session, org, role, payload.external_id)
    await change_holders(session, actor, org, role, add=add, remove=remove)


async def _set_external_id(session: AsyncSession, org: Organization, role: Role, external_id: str | None) -> None:
    state = await repository.state_row(session, org.id, role.id)
    if state is None:
        if external_id is None:
            return
        # Version 1 is what a role without a row has: the new row starts past it.
        session.add(OrgRoleState(org_id=org.id, role_id=role.id, external_id=external_id, version=2))
    elif state.external_id != external_id:
        state.external_id = external_id
    await session.flush()


async def _member(session: AsyncSession, org: Organization, user_id: str) -> Member:
    try:
        return await membership_rules.get(session, org, user_id)
    except NotFound:
        raise InvalidInput([FieldError("members", f"{user_id!r} is not a user of this organization")]) from None


async def change_holders(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    role: Role,
    *,
    add: Iterable[str],
    remove: Iterable[str],
) -> None:
    """Grant ``role`` to the users in ``add`` and take it from those in ``remove`` (ids of members)."""
    changes = [(user_id, True) for user_id in sorted(set(add))] + [(user_id, False) for user_id in sorted(set(remove))]
    for user_id, grant in changes:
        member = await _member(session, org, user_id)
        held = [held.id for held in member.roles]
        if grant and role.id not in held:
            await membership_rules.set_roles(session, actor, org, member, [*held, role.id])
        elif not grant and role.id in held:
            await membership_rules.set_roles(session, actor, org, member, [ref for ref in held if ref != role.id])


async def delete_role(session: AsyncSession, actor: Actor, org: Organization, role: Role) -> None:
    """Take the role from everyone holding it here, then delete it (built-in roles stay)."""
    if role.builtin:
        raise Conflict(f"built-in role {role.name!r} cannot be deleted")
    holders = (await repository.holders(session, org.id, [role.id]))[role.id]
    await change_holders(session, actor, org, role, add=(), remove=holders)
    await roles.delete(session, actor, org, role)


# Reads for the SCIM surface: members with their roles, roles with their state and holders, and the row
# locks that keep an If-Match check true until the change is stored.


def user_attributes(session: AsyncSession) -> UserAttributes:
    """The User attributes a filter or sort may name, compiled for this session's database."""
    return UserAttributes(json_sql(repository.dialect(session)))


async def member(session: AsyncSession, org: Organization, user_id: str, *, lock: bool = False) -> Member:
    """The organization's member ``user_id`` (404 otherwise); with ``lock``, held until the transaction ends."""
    return await membership_rules.get(session, org, user_id, lock=lock)


async def member_page(
    session: AsyncSession,
    org: Organization,
    *,
    condition: ColumnElement[bool] | None,
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> tuple[int, list[Member]]:
    """How many members match ``condition``, and the page of them at ``offset``, each with its roles."""
    criteria = MemberCriteria(condition=condition)
    return await directory.page_at(session, org.id, criteria, order, offset=offset, limit=limit)


async def role_page(
    session: AsyncSession,
    org: Organization,
    *,
    condition: ColumnElement[bool] | None,
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> tuple[int, list[Role]]:
    """How many roles visible in the organization match ``condition``, and the page of them at ``offset``."""
    page = await repository.role_page(session, org.id, condition=condition, order=order, offset=offset, limit=limit)
    return page.total, page.rows


async def lock_role(session: AsyncSession, org: Organization, role: Role) -> None:
    """Hold the role's state in the organization until the transaction ends."""
    await repository.lock_role_state(session, org.id, role.id)


async def role_states(session: AsyncSession, org: Organization, role_ids: list[str]) -> dict[str, RoleState]:
    """Each role's state in the organization, read afresh."""
    return await repository.role_states(session, org.id, role_ids)


async def role_state(session: AsyncSession, org: Organization, role: Role) -> RoleState | None:
    return (await repository.role_states(session, org.id, [role.id])).get(role.id)


async def holders(session: AsyncSession, org: Organization, role_ids: list[str]) -> dict[str, list[str]]:
    """The ids of the live users holding each role in the organization."""
    return await repository.holders(session, org.id, role_ids)
