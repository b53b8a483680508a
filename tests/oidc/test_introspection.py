"""Introspection (RFC 7662): user, machine and refresh tokens answer what they are while they stand;
revoked, expired, rotated-out and foreign tokens answer only `{"active": false}`."""

import time
from typing import Any

import httpx
import jwt

from tenantry.auth import access_tokens
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer
from tests.oidc.flow import APP, authorize_url, code_for, register

TOKEN, INTROSPECT = "/oidc/token", "/oidc/introspect"
RFC_7662_MEMBERS = {"active", "token_type", "iss", "aud", "sub", "client_id", "scope", "iat", "exp"}


def _credentials(registered: dict[str, Any]) -> tuple[str, str]:
    return registered["client_id"], registered["client_secret"]


async def _introspect(client: httpx.AsyncClient, asker: dict[str, Any], token: str) -> dict[str, Any]:
    answer = await client.post(INTROSPECT, data={"token": token}, auth=_credentials(asker))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


async def _signed_in_tokens(client: httpx.AsyncClient, registered: dict[str, Any], email: str) -> dict[str, Any]:
    code = await code_for(client, authorize_url(registered["client_id"]), email)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    answer = await client.post(TOKEN, data=body, auth=_credentials(registered))
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


async def test_a_machine_token_is_active_for_its_org_until_its_client_is_deleted(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    machine = await register(
        client, tenant.owner.token, path=tenant.path("/clients"), grant_types=["client_credentials"]
    )
    resource_server = await register(client, root_token, name="Invoices API")
    issued = await client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=_credentials(machine))
    token = issued.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})

    for asker in (machine, resource_server):
        answer = await _introspect(client, asker, token)
        assert answer.keys() >= RFC_7662_MEMBERS
        assert answer == {
            "active": True,
            "token_type": "Bearer",
            "iss": claims["iss"],
            "aud": claims["aud"],
            "sub": machine["client_id"],
            "client_id": machine["client_id"],
            "scope": "",
            "iat": claims["iat"],
            "exp": claims["exp"],
            "jti": claims["jti"],
            "org_id": tenant.id,
        }

    deleted = await client.delete(tenant.path(f"/clients/{machine['client_id']}"), headers=tenant.auth)
    assert deleted.status_code == 204
    assert await _introspect(client, resource_server, token) == {"active": False}


async def test_a_machine_token_is_inactive_once_its_client_may_no_longer_use_client_credentials(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    machine = await register(
        client, tenant.owner.token, path=tenant.path("/clients"), grant_types=["client_credentials"]
    )
    resource_server = await register(client, root_token, name="Invoices API")
    issued = await client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=_credentials(machine))
    token = issued.json()["access_token"]
    changed = await client.patch(
        tenant.path(f"/clients/{machine['client_id']}"),
        json={"grant_types": ["authorization_code"]},
        headers=tenant.auth,
    )
    assert changed.status_code == 200, changed.text
    assert await _introspect(client, resource_server, token) == {"active": False}


async def test_user_access_and_refresh_tokens_answer_every_member_rfc_7662_names(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    tokens = await _signed_in_tokens(client, registered, tenant.owner.email)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})

    access = await _introspect(client, registered, tokens["access_token"])
    assert access == {
        "active": True,
        "token_type": "Bearer",
        "iss": claims["iss"],
        "aud": claims["aud"],
        "sub": tenant.owner.id,
        "client_id": registered["client_id"],
        "scope": "openid email profile",
        "iat": claims["iat"],
        "exp": claims["exp"],
        "jti": claims["jti"],
        "sid": claims["sid"],
        "org_id": tenant.id,
    }

    refresh = await _introspect(client, registered, tokens["refresh_token"])
    assert refresh.keys() >= RFC_7662_MEMBERS
    assert (refresh["active"], refresh["token_type"], refresh["sub"]) == (True, "refresh_token", tenant.owner.id)
    assert (refresh["client_id"], refresh["scope"], refresh["org_id"]) == (
        registered["client_id"],
        "openid email profile",
        tenant.id,
    )
    assert (refresh["iss"], refresh["aud"], refresh["sid"]) == (claims["iss"], claims["iss"], claims["sid"])
    assert refresh["iat"] <= int(time.time()) < refresh["exp"]
    assert all(isinstance(refresh[name], int) for name in ("iat", "exp"))

    another_client = await register(client, root_token)
    assert await _introspect(client, another_client, tokens["refresh_token"]) == {"active": False}
    assert (await _introspect(client, another_client, tokens["access_token"]))["active"] is True

    rotated = await client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=_credentials(registered),
    )
    assert rotated.status_code == 200, rotated.text
    assert await _introspect(client, registered, tokens["refresh_token"]) == {"active": False}
    assert (await _introspect(client, registered, rotated.json()["refresh_token"]))["active"] is True


async def test_revoked_expired_and_foreign_tokens_are_inactive(
    client: httpx.AsyncClient, root_token: str, runtime: Runtime, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    tokens = await _signed_in_tokens(client, registered, tenant.owner.email)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})

    expired = await access_tokens.issue(
        runtime.keyring, runtime.settings, tenant.owner.id, session_id=claims["sid"], ttl_seconds=-60
    )
    foreign = await runtime.keyring.sign({**claims, "iss": "https://other-issuer.example", "jti": "x" * 24})
    other_audience = await runtime.keyring.sign({**claims, "aud": "someone-else", "jti": "y" * 24})
    for token in (expired, foreign, other_audience, "not a token", tokens["access_token"][:-4] + "AAAA"):
        assert await _introspect(client, registered, token) == {"active": False}, token

    assert (
        await client.post("/oidc/revoke", data={"token": tokens["refresh_token"]}, auth=_credentials(registered))
    ).status_code == 200
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert await _introspect(client, registered, token) == {"active": False}


async def test_a_first_party_token_answers_without_client_or_scope_and_dies_with_its_sessions(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    answer = await _introspect(client, registered, tenant.owner.token)
    assert (answer["active"], answer["sub"], answer["token_type"]) == (True, tenant.owner.id, "Bearer")
    assert "client_id" not in answer
    assert "scope" not in answer
    ended = await client.post("/api/v1/me/sessions/revoke", headers=bearer(tenant.owner.token))
    assert ended.status_code == 204, ended.text
    assert await _introspect(client, registered, tenant.owner.token) == {"active": False}
