"""One rule decides who may remove whom (issue 14, finding 7): what eva reports as ``rules.deletable`` is
what every surface's DELETE does."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, bearer
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


async def test_eva_says_the_last_owner_is_not_deletable_and_no_surface_deletes_them(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant
) -> None:
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    assert (await client.delete(tenant.path(f"/users/{root_id}"), headers=bearer(root_token))).status_code == 204
    owner = Member(tenant.owner.id, tenant.owner.email, tenant.owner.token)
    me = await client.get(_eva(tenant, "/users/identity-provider"), headers=owner.auth)
    assert me.json()["rules"]["deletable"] is False
    before = await every_row(runtime)
    assert await _deletes(client, tenant, owner, owner) == [409, 409, 409]
    assert await every_row(runtime) == before


async def test_eva_reports_deletable_exactly_where_delete_succeeds(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user("admin@example.com", roles=["admin"])
    viewer = await tenant.add_user("viewer@example.com", roles=["viewer"])
    listed = (await client.get(_eva(tenant, "/users"), headers=admin.auth)).json()
    rules = {user["email"]: user["rules"]["deletable"] for user in listed["content"]}
    assert {email: rules[email] for email in (tenant.owner.email, admin.email, viewer.email)} == {
        tenant.owner.email: False,  # holds orgs:delete, which an admin lacks
        admin.email: True,  # the caller may leave
        viewer.email: True,
    }
    assert (await client.delete(tenant.path(f"/users/{tenant.owner.id}"), headers=admin.auth)).status_code == 403
    assert (await client.delete(_eva(tenant, f"/users/{viewer.id}"), headers=admin.auth)).status_code == 204
    assert (await client.delete(_eva(tenant, f"/users/{admin.id}"), headers=admin.auth)).status_code == 204
