"""The whole lifecycle a user of Tenantry goes through, over HTTP."""

import httpx

from tests.factories import PASSWORD, Tenant, bearer


async def test_bootstrap_login_create_search_disable_enable_delete(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        tenant.path("/users"),
        json={"email": "Jane.Doe@Example.com", "first_name": "Jane", "last_name": "Doe", "password": PASSWORD},
        headers=tenant.auth,
    )
    assert created.status_code == 201
    jane = created.json()
    assert jane["roles"] == ["member"]
    assert jane["status"] == "active"

    login = {"grant_type": "password", "username": "jane.doe@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/token", data=login)).status_code == 200

    found = await client.get(tenant.path("/users"), params={"q": "DOE@exa"}, headers=tenant.auth)
    assert [user["id"] for user in found.json()["items"]] == [jane["id"]]

    disabled = await client.post(tenant.path(f"/users/{jane['id']}/disable"), headers=tenant.auth)
    assert disabled.json()["status"] == "disabled"
    refused = await client.post("/api/v1/auth/token", data=login)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"

    enabled = await client.post(tenant.path(f"/users/{jane['id']}/enable"), headers=tenant.auth)
    assert enabled.json()["status"] == "active"
    token = (await client.post("/api/v1/auth/token", data=login)).json()["access_token"]
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200

    assert (await client.delete(tenant.path(f"/users/{jane['id']}"), headers=tenant.auth)).status_code == 204
    assert (await client.get(tenant.path(f"/users/{jane['id']}"), headers=tenant.auth)).status_code == 404
    gone = await client.get(tenant.path("/users"), params={"q": "jane"}, headers=tenant.auth)
    assert gone.json()["items"] == []
    assert (await client.post("/api/v1/auth/token", data=login)).status_code == 400
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
