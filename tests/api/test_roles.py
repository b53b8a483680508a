"""Roles: built-in and custom, and permission changes taking effect on the next request."""

import httpx

from tests.factories import Tenant


async def test_builtin_roles_are_listed_with_their_permissions(client: httpx.AsyncClient, tenant: Tenant) -> None:
    roles = (await client.get(tenant.path("/roles"), headers=tenant.auth)).json()
    names = [role["name"] for role in roles]
    assert names[:6] == sorted(["owner", "admin", "member", "supervisor", "editor", "viewer"])
    member = next(role for role in roles if role["name"] == "member")
    assert member["builtin"] is True
    assert member["permissions"] == ["orgs:read", "roles:read", "users:read"]


async def test_permission_catalog(client: httpx.AsyncClient, tenant: Tenant) -> None:
    catalog = (await client.get("/api/v1/permissions", headers=tenant.auth)).json()
    assert {
        "name": "users:create",
        "description": "Create users and add existing accounts to the organization",
        "application": False,
    } in catalog
    assert all(":" in entry["name"] for entry in catalog)


async def test_custom_role_lifecycle(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        tenant.path("/roles"),
        json={
            "name": "helpdesk",
            "description": "Support",
            "permissions": ["users:read", "users:disable", "users:read"],
        },
        headers=tenant.auth,
    )
    assert created.status_code == 201
    role = created.json()
    assert role["permissions"] == ["users:disable", "users:read"]
    assert (await client.get(tenant.path("/roles/helpdesk"), headers=tenant.auth)).json()["id"] == role["id"]
    assert (await client.get(tenant.path(f"/roles/{role['id']}"), headers=tenant.auth)).status_code == 200
    patched = await client.patch(tenant.path("/roles/helpdesk"), json={"name": "support"}, headers=tenant.auth)
    assert patched.json()["name"] == "support"
    holder = await tenant.add_user(roles=["support"])
    in_use = await client.delete(tenant.path("/roles/support"), headers=tenant.auth)
    assert in_use.status_code == 409
    await client.put(tenant.path(f"/users/{holder.id}/roles"), json={"roles": ["member"]}, headers=tenant.auth)
    assert (await client.delete(tenant.path("/roles/support"), headers=tenant.auth)).status_code == 204
    assert (await client.get(tenant.path("/roles/support"), headers=tenant.auth)).status_code == 404


async def test_a_revoked_key_no_longer_holds_its_role(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.post(
        tenant.path("/roles"), json={"name": "reader", "permissions": ["users:read"]}, headers=tenant.auth
    )
    keys = [
        (await client.post(tenant.path("/api-keys"), json={"name": name, "roles": ["reader"]}, headers=tenant.auth))
        for name in ("ci", "backup")
    ]
    assert (
        await client.delete(tenant.path(f"/api-keys/{keys[0].json()['id']}"), headers=tenant.auth)
    ).status_code == 204
    in_use = await client.delete(tenant.path("/roles/reader"), headers=tenant.auth)
    assert in_use.status_code == 409
    assert "granted 1 time(s)" in in_use.text
    assert (
        await client.delete(tenant.path(f"/api-keys/{keys[1].json()['id']}"), headers=tenant.auth)
    ).status_code == 204
    assert (await client.delete(tenant.path("/roles/reader"), headers=tenant.auth)).status_code == 204
    assert (await client.get(tenant.path("/roles/reader"), headers=tenant.auth)).status_code == 404


async def test_role_rules(client: httpx.AsyncClient, tenant: Tenant) -> None:
    unknown = await client.post(
        tenant.path("/roles"), json={"name": "x", "permissions": ["users:read", "users:fly"]}, headers=tenant.auth
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "permissions[1]", "message": "unknown permission 'users:fly'"}]
    assert (await client.post(tenant.path("/roles"), json={"name": "admin"}, headers=tenant.auth)).status_code == 409
    assert (
        await client.patch(tenant.path("/roles/owner"), json={"name": "boss"}, headers=tenant.auth)
    ).status_code == 409
    assert (await client.delete(tenant.path("/roles/member"), headers=tenant.auth)).status_code == 409
    assert (
        await client.post(tenant.path("/roles"), json={"name": "bad name!"}, headers=tenant.auth)
    ).status_code == 422


async def test_admin_cannot_mint_a_role_above_themselves(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user(roles=["admin"])
    response = await client.post(
        tenant.path("/roles"), json={"name": "deleter", "permissions": ["orgs:delete"]}, headers=admin.auth
    )
    assert response.status_code == 403


async def test_custom_roles_are_per_organization(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await client.post(tenant.path("/roles"), json={"name": "acme-only"}, headers=tenant.auth)
    assert (await client.get(other_tenant.path("/roles/acme-only"), headers=other_tenant.auth)).status_code == 404
    response = await client.post(
        other_tenant.path("/users"), json={"email": "x@example.com", "roles": ["acme-only"]}, headers=other_tenant.auth
    )
    assert response.status_code == 422


async def test_role_changes_take_effect_on_the_next_request(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user()
    create = {"email": "made@example.com"}
    assert (await client.post(tenant.path("/users"), json=create, headers=user.auth)).status_code == 403
    await client.put(tenant.path(f"/users/{user.id}/roles"), json={"roles": ["admin"]}, headers=tenant.auth)
    assert (await client.post(tenant.path("/users"), json=create, headers=user.auth)).status_code == 201
    await client.put(tenant.path(f"/users/{user.id}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth)
    assert (
        await client.post(tenant.path("/users"), json={"email": "m2@example.com"}, headers=user.auth)
    ).status_code == 403


async def test_custom_role_permission_changes_take_effect_on_the_next_request(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await client.post(
        tenant.path("/roles"), json={"name": "readers", "permissions": ["orgs:read"]}, headers=tenant.auth
    )
    user = await tenant.add_user(roles=["readers"])
    assert (await client.get(tenant.path("/users"), headers=user.auth)).status_code == 403
    await client.patch(
        tenant.path("/roles/readers"), json={"permissions": ["orgs:read", "users:read"]}, headers=tenant.auth
    )
    assert (await client.get(tenant.path("/users"), headers=user.auth)).status_code == 200
