"""Role grants scoped to a resource.

A scoped grant gives its role on one resource and on every resource beneath it (a grant on an
environment covers its bots). It gives nothing organization-wide: organization-wide permissions come
only from the membership's own roles (``membership_roles``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.memberships.models import Membership
from tenantry.core.memberships.service import Member, ensure_may_manage
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import repository
from tenantry.core.resources.models import Resource, membership_resource_roles
from tenantry.core.resources.schemas import ScopedRole, ScopedRoleOut
from tenantry.core.roles import repository as role_repository
from tenantry.core.roles import service as roles
from tenantry.core.roles.models import Role
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class Grant:
    role: Role
    resource: Resource

    @property
    def key(self) -> tuple[str, str]:
        return self.role.id, self.resource.id


def grant_out(grant: Grant) -> ScopedRoleOut:
    return ScopedRoleOut(
        role=grant.role.name,
        resource_id=grant.resource.id,
        resource_type=grant.resource.type,
        resource_name=grant.resource.name,
    )


async def of_memberships(session: AsyncSession, membership_ids: list[str]) -> dict[str, list[Grant]]:
    """Every membership's scoped grants, ordered by resource name then role name."""
    grouped: dict[str, list[Grant]] = {membership_id: [] for membership_id in membership_ids}
    for membership_id, role, resource in await repository.scoped_grants(session, membership_ids):
        grouped[membership_id].append(Grant(role, resource))
    return grouped


async def resolve(session: AsyncSession, org_id: str, wanted: Sequence[ScopedRole], *, field: str) -> list[Grant]:
    """The grants named by (role, resource) refs, without repeats; 422 naming each unknown role or resource."""
    found_roles = await role_repository.find(session, org_id, [item.role for item in wanted])
    by_role = {role.id: role for role in found_roles} | {role.name: role for role in found_roles}
    by_resource = await repository.find(session, org_id, [item.resource for item in wanted])
    errors: list[FieldError] = []
    resolved: dict[tuple[str, str], Grant] = {}
    for index, item in enumerate(wanted):
        role, resource = by_role.get(item.role), by_resource.get(item.resource)
        if role is None:
            errors.append(FieldError(f"{field}[{index}].role", f"unknown role {item.role!r}"))
        if resource is None:
            errors.append(FieldError(f"{field}[{index}].resource", f"unknown resource {item.resource!r}"))
        if role is not None and resource is not None:
            grant = Grant(role, resource)
            resolved[grant.key] = grant
    if errors:
        raise InvalidInput(errors)
    return list(resolved.values())


async def change(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    member: Member,
    *,
    add: Sequence[Grant] = (),
    remove: Sequence[Grant] = (),
    replace: bool = False,
) -> list[Grant]:
    """Add and remove scoped grants (or, with ``replace``, make ``add`` the whole set); returns the new set.

    Refused (403) on a member the actor may not manage, an invitation its owner has not answered included:
    what an invitation holds is chosen when it is made (``grant_chosen``)."""
    ensure_may_manage(actor, member)
    return await _write(session, actor, org, member, add, remove, replace=replace)


async def grant_chosen(
    session: AsyncSession, actor: Actor, org: Organization, member: Member, grants: Sequence[Grant]
) -> None:
    """Store the scoped grants chosen with a membership ``actor`` has just made here: a new account's, or an
    invitation of an existing account (``joining.attach``). They are the organization's own data about its
    membership, kept on an invitation as its roles are, so that creating with grants answers alike whether
    the address had an account or not; an invitation gives nothing until its owner accepts (``roles_on``
    reads accepted memberships only). The caller checks the roles grantable before it looks the address up
    (``users.create``), so that a refusal does not tell the addresses apart either."""
    if grants:
        await _write(session, actor, org, member, grants, ())


async def _write(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    member: Member,
    add: Sequence[Grant],
    remove: Sequence[Grant],
    *,
    replace: bool = False,
) -> list[Grant]:
    add = list({grant.key: grant for grant in add}.values())
    roles.ensure_grantable(actor, [grant.role for grant in add])
    membership_id = member.membership.id
    current = {grant.key: grant for grant in (await of_memberships(session, [membership_id]))[membership_id]}
    dropped = set(current) if replace else {grant.key for grant in remove} & set(current)
    added = [grant for grant in add if grant.key not in current or grant.key in dropped]
    dropped -= {grant.key for grant in added}
    table = membership_resource_roles.c
    for role_id, resource_id in dropped:
        await session.execute(
            delete(membership_resource_roles).where(
                table.membership_id == membership_id, table.role_id == role_id, table.resource_id == resource_id
            )
        )
    fresh = [grant for grant in added if grant.key not in current]
    if fresh:
        await session.execute(
            insert(membership_resource_roles),
            [{"membership_id": membership_id, "role_id": g.role.id, "resource_id": g.resource.id} for g in fresh],
        )
    result = {key: grant for key, grant in current.items() if key not in dropped} | {g.key: g for g in added}
    if fresh or dropped:
        member.membership.updated_at = utcnow()
        await session.flush()
        record_for_user(
            session,
            actor,
            "member.scoped_roles_changed",
            member.user.id,
            org_id=org.id,
            details={
                "added": [{"role": g.role.name, "resource": g.resource.id} for g in fresh],
                "removed": [{"role": current[key].role.name, "resource": key[1]} for key in sorted(dropped)],
            },
        )
    return sorted(result.values(), key=lambda g: (g.resource.name, g.resource.id, g.role.name))


async def roles_on(session: AsyncSession, membership_id: str, resource: Resource) -> list[Role]:
    """The roles a membership holds on ``resource`` through grants on it or on any resource above it: none while
    it is an invitation its owner has not accepted."""
    lineage = [resource.id] + [ancestor.id for ancestor in await repository.ancestors(session, resource)]
    table = membership_resource_roles.c
    statement = (
        select(Role)
        .join(membership_resource_roles, table.role_id == Role.id)
        .join(Membership, Membership.id == table.membership_id)
        .where(
            table.membership_id == membership_id,
            table.resource_id.in_(lineage),
            Membership.consent_pending.is_(False),
        )
        .order_by(Role.name)
    )
    return list((await session.scalars(statement)).unique())


async def permissions_on(session: AsyncSession, member: Member, resource: Resource) -> frozenset[str]:
    """What ``member`` may do on ``resource``: organization-wide permissions plus those of grants covering it."""
    scoped = roles.union_permissions(await roles_on(session, member.membership.id, resource))
    return member.permissions | scoped
