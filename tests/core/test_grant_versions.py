"""Every change to who holds a role raises that role's version in the organization (its SCIM Group ETag) by one,
through the ORM and past it (the importer), with one upsert whose values are parameters."""

from sqlalchemy import select

from tenantry.core.memberships import grant_versions
from tenantry.core.roles.models import OrgRoleState, Role
from tenantry.runtime import Runtime
from tests.factories import Tenant
from tests.statements import sent_statements

NAMES = ["viewer", "member", "admin"]


async def _builtin_ids(runtime: Runtime) -> dict[str, str]:
    async with runtime.database.transaction(write=False) as session:
        rows = await session.execute(select(Role.name, Role.id).where(Role.name.in_(NAMES), Role.org_id.is_(None)))
        return dict(rows.all())


async def _versions(runtime: Runtime, org_id: str, ids: dict[str, str]) -> dict[str, int]:
    """The version of each role of ``ids`` in the organization (1: no grant has touched it yet)."""
    async with runtime.database.transaction(write=False) as session:
        states = select(OrgRoleState.role_id, OrgRoleState.version).where(OrgRoleState.org_id == org_id)
        versions = dict((await session.execute(states)).all())
    return {name: versions.get(role_id, 1) for name, role_id in ids.items()}


async def test_each_role_a_change_touches_rises_by_one(runtime: Runtime, tenant: Tenant) -> None:
    ids = await _builtin_ids(runtime)
    before = await _versions(runtime, tenant.id, ids)
    with sent_statements(runtime.database) as sent:
        await tenant.add_user("both@versions.example", roles=["viewer", "member"], password=None)
        await tenant.add_user("viewer@versions.example", roles=["viewer"], password=None)
    after = await _versions(runtime, tenant.id, ids)
    assert after == {"viewer": before["viewer"] + 2, "member": before["member"] + 1, "admin": before["admin"]}
    upserts = [statement for statement in sent if "org_role_states" in statement]
    assert len(upserts) == 2
    assert all(tenant.id not in statement for statement in upserts)  # the pairs are parameters, not SQL text

    async with runtime.database.transaction() as session:  # rows written past the ORM, as the importer writes
        await grant_versions.bump(session, {(tenant.id, ids["member"]), (tenant.id, ids["admin"])})
    assert await _versions(runtime, tenant.id, ids) == {
        "viewer": after["viewer"],
        "member": after["member"] + 1,
        "admin": after["admin"] + 1,
    }
