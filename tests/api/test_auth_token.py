"""POST /api/v1/auth/token: the password and refresh_token grants."""

import httpx
import pytest

from tests.factories import PASSWORD, Tenant, bearer

TOKEN = "/api/v1/auth/token"


async def test_password_grant_accepts_form_and_json(client: httpx.AsyncClient, tenant: Tenant) -> None:
    fields = {"grant_type": "password", "username": tenant.owner.email, "password": PASSWORD}
    for response in (await client.post(TOKEN, data=fields), await client.post(TOKEN, json=fields)):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert body["refresh_token"]
        assert response.headers["cache-control"] == "no-store"
        assert (await client.get("/api/v1/me", headers=bearer(body["access_token"]))).status_code == 200


async def test_username_is_matched_case_insensitively(client: httpx.AsyncClient, tenant: Tenant) -> None:
    fields = {"grant_type": "password", "username": tenant.owner.email.upper(), "password": PASSWORD}
    assert (await client.post(TOKEN, data=fields)).status_code == 200


async def test_wrong_password_and_unknown_user_answer_the_same(client: httpx.AsyncClient, tenant: Tenant) -> None:
    wrong = await client.post(TOKEN, data={"grant_type": "password", "username": tenant.owner.email, "password": "x"})
    unknown = await client.post(TOKEN, data={"grant_type": "password", "username": "nobody@x.io", "password": "x"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_grant"
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_invited_user_without_password_cannot_sign_in(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await tenant.add_user("invitee@example.com", password=None)
    fields = {"grant_type": "password", "username": "invitee@example.com", "password": ""}
    assert (await client.post(TOKEN, data=fields)).json()["error"] == "invalid_request"
    fields["password"] = "anything-at-all"
    assert (await client.post(TOKEN, data=fields)).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "password", "username": "a@b.io"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
async def test_malformed_grants_are_oauth_errors(client: httpx.AsyncClient, fields: dict[str, str], error: str) -> None:
    response = await client.post(TOKEN, data=fields)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_body_must_be_form_or_json_object(client: httpx.AsyncClient) -> None:
    assert (await client.post(TOKEN, content=b"[1]", headers={"content-type": "application/json"})).status_code == 400
    assert (await client.post(TOKEN, content=b"{", headers={"content-type": "application/json"})).status_code == 400
    assert (await client.post(TOKEN, content=b"x", headers={"content-type": "text/plain"})).status_code == 400


async def test_refresh_token_rotates(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = (
        await client.post(TOKEN, data={"grant_type": "password", "username": tenant.owner.email, "password": PASSWORD})
    ).json()
    second = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    third = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    )
    assert third.status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = (
        await client.post(TOKEN, data={"grant_type": "password", "username": tenant.owner.email, "password": PASSWORD})
    ).json()
    rotated = (
        await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    ).json()
    replay = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The legitimate holder's newer token died with the family.
    after = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]})
    assert after.status_code == 400


async def test_unknown_refresh_token_is_invalid_grant(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": "not-a-token"})
    assert response.json()["error"] == "invalid_grant"


async def test_login_records_last_login(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await client.get(tenant.path(f"/users/{tenant.owner.id}"), headers=tenant.auth)
    assert user.json()["last_login_at"] is not None
