"""Organization API keys: shown once, hashed at rest, bound to their organization, revocable."""

import httpx
from sqlalchemy import select

from tenantry.core.apikeys.models import ApiKey
from tenantry.runtime import Runtime
from tests.factories import Tenant


async def _make_key(client: httpx.AsyncClient, tenant: Tenant, roles: list[str]) -> dict[str, str]:
    response = await client.post(tenant.path("/api-keys"), json={"name": "ci", "roles": roles}, headers=tenant.auth)
    assert response.status_code == 201
    body: dict[str, str] = response.json()
    return body


async def test_key_is_shown_once_and_stored_hashed(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    created = await _make_key(client, tenant, ["admin"])
    assert created["key"].startswith(created["prefix"] + "_")
    listed = (await client.get(tenant.path("/api-keys"), headers=tenant.auth)).json()
    assert listed["items"][0]["id"] == created["id"]
    assert "key" not in listed["items"][0]
    assert created["key"] not in (await client.get(tenant.path("/api-keys"), headers=tenant.auth)).text
    async with runtime.database.transaction(write=False) as session:
        stored = (await session.scalars(select(ApiKey))).one()
    assert created["key"] not in (stored.key_hash, stored.lookup)


async def test_key_authenticates_with_either_header(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = (await _make_key(client, tenant, ["admin"]))["key"]
    for headers in ({"Authorization": f"Bearer {key}"}, {"x-api-key": key}):
        response = await client.post(tenant.path("/users"), json={"email": f"{len(headers)}@ex.com"}, headers=headers)
        assert response.status_code in (201, 409)
    assert (await client.get(tenant.path("/users"), headers={"x-api-key": key})).status_code == 200


async def test_key_acts_with_its_roles_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = (await _make_key(client, tenant, ["viewer"]))["key"]
    headers = {"x-api-key": key}
    assert (await client.get(tenant.path("/users"), headers=headers)).status_code == 200
    assert (
        await client.post(tenant.path("/users"), json={"email": "k@example.com"}, headers=headers)
    ).status_code == 403


async def test_key_is_bound_to_its_organization(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    key = (await _make_key(client, tenant, ["admin"]))["key"]
    assert (await client.get(other_tenant.path("/users"), headers={"x-api-key": key})).status_code == 404
    orgs = (await client.get("/api/v1/orgs", headers={"x-api-key": key})).json()
    assert [org["slug"] for org in orgs["items"]] == ["acme"]


async def test_revoked_key_is_refused_on_the_next_request(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await _make_key(client, tenant, ["admin"])
    headers = {"x-api-key": created["key"]}
    assert (await client.get(tenant.path("/users"), headers=headers)).status_code == 200
    assert (await client.delete(tenant.path(f"/api-keys/{created['id']}"), headers=tenant.auth)).status_code == 204
    assert (await client.get(tenant.path("/users"), headers=headers)).status_code == 401
    assert (await client.delete(tenant.path(f"/api-keys/{created['id']}"), headers=tenant.auth)).status_code == 404


async def test_tampered_or_unknown_keys_are_401(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = (await _make_key(client, tenant, ["admin"]))["key"]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    for candidate in (tampered, "tnt_0000000000000000_" + "x" * 43, "tnt_short"):
        assert (await client.get(tenant.path("/users"), headers={"x-api-key": candidate})).status_code == 401


async def test_keys_cannot_hold_more_than_their_creator(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user(roles=["admin"])
    response = await client.post(tenant.path("/api-keys"), json={"name": "x", "roles": ["owner"]}, headers=admin.auth)
    assert response.status_code == 403


async def test_keys_cannot_call_user_only_routes(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = (await _make_key(client, tenant, ["owner"]))["key"]
    assert (await client.get("/api/v1/me", headers={"x-api-key": key})).status_code == 403


async def test_the_answer_with_a_new_key_is_never_cached(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        tenant.path("/api-keys"), json={"name": "ci", "roles": ["viewer"]}, headers=tenant.auth
    )
    assert response.status_code == 201, response.text
    assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")
