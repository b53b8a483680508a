"""Between eva and the core: users as eva lists them, and eva's environment grants as scoped roles."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.imports.eva import ROLE_OF
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import grants as scoped
from tenantry.core.resources import service as resources
from tenantry.core.resources.grants import Grant
from tenantry.core.resources.models import BOT, ENVIRONMENT, Resource
from tenantry.core.roles import service as roles
from tenantry.core.users import listing
from tenantry.core.users.service import displayed_status
from tenantry.dialects.eva.schemas import EnvironmentAccess, EnvironmentGrant, EvaUser, NamedResource, Rules
from tenantry.errors import FieldError, InvalidInput

EVA_ROLE = {core: eva for eva, core in ROLE_OF.items() if eva != "ADMIN"}
ADMIN_ROLES = frozenset({"admin", "owner"})


def uuid_of(resource: Resource) -> str:
    """eva's uuid of an environment or bot: the external id it was registered with, else our id."""
    return resource.external_id or resource.id


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shown_name(member: Member) -> str:
    """eva's one name: the account's first and last name joined by a space."""
    return " ".join(part for part in (member.user.first_name, member.user.last_name) if part)


def is_admin(member: Member) -> bool:
    return bool(ADMIN_ROLES & {role.name for role in member.roles})


def eva_role(grants: list[Grant]) -> str | None:
    return next((EVA_ROLE[g.role.name] for g in grants if g.role.name in EVA_ROLE), None)


def environments(grants: list[Grant], parents: dict[str, Resource]) -> list[EnvironmentAccess]:
    """Scoped grants grouped as eva shows them: one entry per (role, environment), with the bots granted."""
    entries: dict[tuple[str, str], EnvironmentAccess] = {}
    for grant in grants:
        role = EVA_ROLE.get(grant.role.name)
        environment = (
            grant.resource if grant.resource.type == ENVIRONMENT else parents.get(grant.resource.parent_id or "")
        )
        if role is None or environment is None or grant.resource.type not in (ENVIRONMENT, BOT):
            continue
        entry = entries.setdefault(
            (role, environment.id),
            EnvironmentAccess(
                role=role, environment=NamedResource(uuid=uuid_of(environment), name=environment.name), bots=[]
            ),
        )
        if grant.resource.type == BOT:
            entry.bots.append(NamedResource(uuid=uuid_of(grant.resource), name=grant.resource.name))
    return sorted(entries.values(), key=lambda entry: (entry.environment.name, entry.environment.uuid, entry.role))


async def eva_users(session: AsyncSession, actor: Actor, org: Organization, members: list[Member]) -> list[EvaUser]:
    """Members as eva lists them, with their environments (a few queries for the whole page)."""
    by_membership = await scoped.of_memberships(session, [member.membership.id for member in members])
    parent_ids = {g.resource.parent_id for gs in by_membership.values() for g in gs if g.resource.parent_id}
    parents = await resources.find_many(session, org.id, {ref for ref in parent_ids if ref})
    owners = await listing.active_owner_ids(session, org.id)
    return [
        EvaUser(
            uuid=member.user.id,
            name=shown_name(member),
            email=member.user.email,
            company=_company(member),
            image=member.user.avatar_url,
            admin=is_admin(member),
            active=displayed_status(member.user, member.membership) != "disabled",
            orgUUID=org.id,
            createdAt=timestamp(member.user.created_at),
            rules=Rules(deletable=memberships.may_remove(actor, member, owners)),
            environments=environments(by_membership[member.membership.id], parents),
        )
        for member in members
    ]


def _company(member: Member) -> str | None:
    company = member.membership.attributes.get("company")
    return company if isinstance(company, str) else None


def _resource_problem(resource: Resource | None, kind: str, ref: str) -> str | None:
    if resource is None or resource.type != kind:
        return f"{kind} {ref} does not exist"
    if not resource.active:
        return f"{kind} {ref} is not active"
    return None


async def resolve_environments(
    session: AsyncSession, org: Organization, entries: list[EnvironmentGrant], *, field: str = "environments"
) -> list[Grant]:
    """eva grants as scoped roles, after eva's rules: one role, SUPERVISOR per environment, EDITOR and
    VIEWER per bot; environments and bots exist, are active and are related."""
    refs = {e.environment.uuid for e in entries} | {bot.uuid for e in entries for bot in e.bots}
    found = await resources.find_many(session, org.id, refs)
    role_rows = {role.name: role for role in await roles.resolve(session, org.id, list(EVA_ROLE))}
    problems: list[FieldError] = []
    if len({entry.role for entry in entries}) > 1:
        problems.append(FieldError(field, "a user may only have one role"))
    result: list[Grant] = []
    for i, entry in enumerate(entries):
        at = f"{field}[{i}]"
        environment = found.get(entry.environment.uuid)
        if problem := _resource_problem(environment, ENVIRONMENT, entry.environment.uuid):
            problems.append(FieldError(f"{at}.environment.uuid", problem))
            continue
        assert environment is not None
        role = role_rows[ROLE_OF[entry.role]]
        if entry.role == "SUPERVISOR":
            if entry.bots:
                problems.append(FieldError(f"{at}.bots", "SUPERVISOR is granted an environment, not bots"))
            result.append(Grant(role, environment))
            continue
        if not entry.bots:
            problems.append(FieldError(f"{at}.bots", f"{entry.role} requires at least one bot"))
        for j, ref in enumerate(entry.bots):
            bot = found.get(ref.uuid)
            problem = _resource_problem(bot, BOT, ref.uuid)
            if problem is None and bot is not None and bot.parent_id != environment.id:
                problem = f"bot {ref.uuid} does not belong to environment {entry.environment.uuid}"
            if problem:
                problems.append(FieldError(f"{at}.bots[{j}].uuid", problem))
            elif bot is not None:
                result.append(Grant(role, bot))
    if problems:
        raise InvalidInput(problems)
    return result
