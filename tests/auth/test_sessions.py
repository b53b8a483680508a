"""POST /auth/logout ends one session; POST /me/sessions/revoke ends them all."""

import httpx

from tests.factories import Tenant, bearer, login

TOKEN = "/api/v1/auth/token"


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


async def test_logout_ends_this_session_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    laptop, phone = await login(client, member.email), await login(client, member.email)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(laptop["access_token"]))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(laptop["access_token"]))).status_code == 401
    assert (await _refresh(client, laptop["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await client.get("/api/v1/me", headers=bearer(phone["access_token"]))).status_code == 200
    assert (await _refresh(client, phone["refresh_token"])).status_code == 200


async def test_logout_ends_the_tokens_refreshed_from_the_session(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    first = await login(client, member.email)
    rotated = (await _refresh(client, first["refresh_token"])).json()
    assert (await client.post("/api/v1/auth/logout", headers=bearer(rotated["access_token"]))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(first["access_token"]))).status_code == 401
    assert (await _refresh(client, rotated["refresh_token"])).status_code == 400


async def test_revoking_all_sessions_ends_every_token(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    laptop, phone = await login(client, member.email), await login(client, member.email)
    assert (await client.post("/api/v1/me/sessions/revoke", headers=bearer(laptop["access_token"]))).status_code == 204
    for tokens in (laptop, phone):
        assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 401
        assert (await _refresh(client, tokens["refresh_token"])).status_code == 400
    fresh = await login(client, member.email)
    assert (await client.get("/api/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_a_reused_refresh_token_ends_the_access_tokens_of_its_session(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user()
    first = await login(client, member.email)
    rotated = (await _refresh(client, first["refresh_token"])).json()
    assert (await _refresh(client, first["refresh_token"])).status_code == 400  # replayed: the family is revoked
    assert (await client.get("/api/v1/me", headers=bearer(rotated["access_token"]))).status_code == 401


async def test_api_keys_have_no_session_to_end(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = (
        await client.post(tenant.path("/api-keys"), json={"name": "k", "roles": ["viewer"]}, headers=tenant.auth)
    ).json()["key"]
    assert (await client.post("/api/v1/auth/logout", headers={"x-api-key": key})).status_code == 403
    assert (await client.post("/api/v1/me/sessions/revoke", headers={"x-api-key": key})).status_code == 403
