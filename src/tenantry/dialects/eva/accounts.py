"""eva's user bodies carried out on the core: profile fields, the ADMIN role and environment grants."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess
from tenantry.core.flows.context import Flows
from tenantry.core.imports.eva import EVA_PASSWORD_POLICY
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.resources import grants as scoped
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.core.users import service as users
from tenantry.core.users.schemas import UserCreate as CoreUserCreate
from tenantry.core.users.schemas import UserUpdate as CoreUserUpdate
from tenantry.dialects.eva.schemas import EnvironmentGrant, UserCreate, UserUpdate
from tenantry.dialects.eva.translate import is_admin, resolve_environments, shown_name
from tenantry.errors import FieldError, InvalidInput

ADMIN_ROLE = "admin"


def _admin_without_environments(admin: bool, environments: list[EnvironmentGrant] | None) -> None:
    if admin and environments:
        raise InvalidInput([FieldError("environments", "an ADMIN holds every environment: leave environments empty")])


async def create(session: AsyncSession, access: OrgAccess, payload: UserCreate, flows: Flows) -> Member:
    """ADMIN gets the built-in admin role; everyone else member, plus their role on environments or bots."""
    _admin_without_environments(payload.admin, payload.environments)
    grants = await resolve_environments(session, access.org, payload.environments)
    return await users.create(
        session,
        access.actor,
        access.org,
        CoreUserCreate(
            email=payload.email,
            first_name=payload.name,
            attributes={"company": payload.company} if payload.company else {},
            avatar_url=payload.image,
            password=payload.password,
            roles=[ADMIN_ROLE if payload.admin else DEFAULT_ROLE.name],
        ),
        flows.passwords,
        flows_for_consent=flows,
        policy=EVA_PASSWORD_POLICY,
        scoped=grants,
    )


def _profile(member: Member, changes: dict[str, Any], payload: UserUpdate) -> dict[str, Any]:
    """The core's fields a PUT changes. A ``name`` equal to the one eva reads (first and last joined) changes
    nothing: a client sends back what it read, and storing it as first name would rewrite the name parts and
    count as an account change (refused when the account is shared)."""
    profile: dict[str, Any] = {}
    if payload.name is not None and payload.name != shown_name(member):
        profile.update(first_name=payload.name, last_name="")
    if payload.email is not None:
        profile["email"] = payload.email
    if "image" in changes:
        profile["avatar_url"] = payload.image
    if "company" in changes:
        attributes = {key: value for key, value in member.membership.attributes.items() if key != "company"}
        profile["attributes"] = attributes | ({"company": payload.company} if payload.company else {})
    return profile


async def update(session: AsyncSession, access: OrgAccess, member: Member, payload: UserUpdate) -> None:
    changes = payload.model_dump(exclude_unset=True)
    actor, org = access.actor, access.org
    if profile := _profile(member, changes, payload):
        await users.update(session, actor, org, member, CoreUserUpdate(**profile))
    if "admin" not in changes and "environments" not in changes:
        return
    memberships.ensure_may_change_roles(actor)
    admin = is_admin(member) if payload.admin is None else payload.admin
    _admin_without_environments(admin, payload.environments)
    grants = [] if admin else await resolve_environments(session, org, payload.environments or [])
    if admin != is_admin(member):
        await memberships.set_roles(session, actor, org, member, [ADMIN_ROLE if admin else DEFAULT_ROLE.name])
    if admin or payload.environments is not None:
        await scoped.change(session, actor, org, member, add=grants, replace=True)
