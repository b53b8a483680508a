"""One rule decides who may remove whom (issue 14, finding 7): what eva reports as ``rules.deletable`` is
what every surface's DELETE does."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import Member, Tenant
from tests.snapshots import every_row


def _eva(tenant: Tenant, suffix: str) -> str:
    return f"/compat/eva/eva-user/org/{tenant.id}{suffix}"


async def _deletes(client: httpx.AsyncClient, tenant: Tenant, caller: Member, target: Member) -> list[int]:
    """DELETE through eva, the native API and telm."""
    telm = f"/compat/telm/api/auth/auth/{tenant.slug}/users/{target.email}"
    return [
        (await client.delete(_eva(tenant, f"/users/{target.id}"), headers=caller.auth)).status_code,
        (await client.delete(tenant.path(f"/users/{target.id}"), headers=caller.auth)).status_code,
        (await client.delete(telm, headers={"Authentication": f"Bearer {caller.token}"})).status_code,
    ]


async def test_nobody_removes_themselves_on_any_surface_and_eva_says_so(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    admin = await tenant.add_user("admin@example.com", roles=["admin"])
    me = await client.get(_eva(tenant, "/users/identity-provider"), headers=admin.auth)
    assert me.json()["rules"]["deletable"] is False
    before = await every_row(runtime)
    assert await _deletes(client, tenant, admin, admin) == [409, 409, 409]
    assert await every_row(runtime) == before


async def test_eva_reports_deletable_exactly_where_delete_succeeds(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user("admin@example.com", roles=["admin"])
    viewer = await tenant.add_user("viewer@example.com", roles=["viewer"])
    listed = (await client.get(_eva(tenant, "/users"), headers=admin.auth)).json()
    rules = {user["email"]: user["rules"]["deletable"] for user in listed["content"]}
    assert {email: rules[email] for email in (tenant.owner.email, admin.email, viewer.email)} == {
        tenant.owner.email: False,  # holds orgs:delete, which an admin lacks
        admin.email: False,  # the caller
        viewer.email: True,
    }
    deleted = await client.delete(_eva(tenant, f"/users/{viewer.id}"), headers=admin.auth)
    assert deleted.status_code == 204
    assert (await client.delete(tenant.path(f"/users/{tenant.owner.id}"), headers=admin.auth)).status_code == 403
