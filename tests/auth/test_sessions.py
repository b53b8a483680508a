"""POST /auth/logout ends one session; POST /me/sessions/revoke ends them all."""

import time
from datetime import timedelta

import httpx
from sqlalchemy import update

from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.tokens.models import RefreshToken
from tenantry.runtime import Runtime
from tests.auth.conftest import MakeInstance
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


async def _family_of(runtime: Runtime, refresh_token: str) -> RefreshToken:
    async with runtime.database.transaction(write=False) as session:
        row = await refresh_tokens.find(session, refresh_token)
    assert row is not None
    return row


async def test_a_session_refreshed_every_day_still_ends_at_its_longest_lifetime(
    instance: MakeInstance, tenant: Tenant
) -> None:
    """Refresh tokens renew an idle session's life (``TENANTRY_REFRESH_TOKEN_TTL_SECONDS``), never past
    ``TENANTRY_SESSION_MAX_LIFETIME_SECONDS`` from the sign-in that started it: a stolen refresh token used
    every few minutes does not keep a session alive for ever."""
    app = await instance(session_max_lifetime_seconds=3_600)
    client = await app.client()
    first = await login(client, tenant.owner.email)
    row = await _family_of(app.runtime, first["refresh_token"])
    assert row.expires_at - row.created_at <= timedelta(hours=1)  # not the 30 days of an idle session
    rotated = (await _refresh(client, first["refresh_token"])).json()
    assert (await _family_of(app.runtime, rotated["refresh_token"])).expires_at <= row.expires_at
    # The session began an hour ago (its family id is time-ordered: its first 8 characters are that second).
    began = f"{int(time.time()) - 3_601:08x}" + row.family_id[8:]
    async with app.runtime.database.transaction() as session:
        await session.execute(
            update(RefreshToken).where(RefreshToken.family_id == row.family_id).values(family_id=began)
        )
    ended = await _refresh(client, rotated["refresh_token"])
    assert (ended.status_code, ended.json()["error"]) == (400, "invalid_grant"), ended.text
    assert "longest lifetime" in ended.json()["error_description"]
    assert (await _refresh(client, (await login(client, tenant.owner.email))["refresh_token"])).status_code == 200
