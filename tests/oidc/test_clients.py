"""Registering clients: platform clients (platform admins), organization-owned ones (`clients:write`)."""

import httpx
import pytest
from sqlalchemy import update

from tenantry.core.clients.models import ClientSecret
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer

CLIENTS = "/api/v1/clients"
WEB_APP = {"name": "Web app", "type": "confidential", "redirect_uris": ["https://app.example/callback"]}


async def test_platform_admin_registers_a_confidential_client_and_sees_its_secret_once(
    client: httpx.AsyncClient, root_token: str
) -> None:
    created = await client.post(CLIENTS, json=WEB_APP, headers=bearer(root_token))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["client_secret"].startswith("tcs_")
    assert body["org_id"] is None
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    read = await client.get(f"{CLIENTS}/{body['client_id']}", headers=bearer(root_token))
    assert read.status_code == 200
    assert "client_secret" not in read.json()
    listed = await client.get(CLIENTS, headers=bearer(root_token))
    assert [item["client_id"] for item in listed.json()["items"]] == [body["client_id"]]
    assert body["client_secret"] not in listed.text


async def test_public_clients_have_no_secret(client: httpx.AsyncClient, root_token: str) -> None:
    spa = {"name": "SPA", "type": "public", "redirect_uris": ["http://localhost:5173/cb"]}
    created = await client.post(CLIENTS, json=spa, headers=bearer(root_token))
    assert created.status_code == 201
    assert created.json()["client_secret"] is None
    rotated = await client.post(f"{CLIENTS}/{created.json()['client_id']}/secret", headers=bearer(root_token))
    assert rotated.status_code == 422


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://app.example/cb", "https"),
        ("https://*.app.example/cb", "wildcards"),
        ("https://app.example/cb#frag", "fragment"),
        ("javascript:alert(1)", "https"),
        ("/relative", "https"),
        ("https://user:pw@app.example/cb", "credentials"),
    ],
)
async def test_redirect_uris_must_be_exact_https_or_loopback(
    client: httpx.AsyncClient, root_token: str, uri: str, why: str
) -> None:
    response = await client.post(CLIENTS, json={**WEB_APP, "redirect_uris": [uri]}, headers=bearer(root_token))
    assert response.status_code == 422
    assert why in response.text


async def test_loopback_http_redirect_uris_are_accepted(client: httpx.AsyncClient, root_token: str) -> None:
    uris = ["http://127.0.0.1:8765/cb", "http://localhost/cb", "http://[::1]:9000/cb"]
    response = await client.post(CLIENTS, json={**WEB_APP, "redirect_uris": uris}, headers=bearer(root_token))
    assert response.status_code == 201, response.text


async def test_only_platform_admins_manage_platform_clients(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.post(CLIENTS, json=WEB_APP, headers=tenant.auth)).status_code == 403
    assert (await client.get(CLIENTS, headers=tenant.auth)).status_code == 403


async def test_rotation_keeps_the_old_secret_for_the_grace_period(client: httpx.AsyncClient, root_token: str) -> None:
    created = (await client.post(CLIENTS, json=WEB_APP, headers=bearer(root_token))).json()
    rotated = await client.post(f"{CLIENTS}/{created['client_id']}/secret", headers=bearer(root_token))
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    for secret in (created["client_secret"], new_secret):
        introspected = await client.post(
            "/oidc/introspect", data={"token": "nothing"}, auth=(created["client_id"], secret)
        )
        assert introspected.status_code == 200, secret
    wrong = await client.post("/oidc/introspect", data={"token": "nothing"}, auth=(created["client_id"], "tcs_x"))
    assert wrong.status_code == 401


async def test_the_old_secret_stops_working_when_the_grace_period_ends(
    client: httpx.AsyncClient, root_token: str, runtime: Runtime
) -> None:
    created = (await client.post(CLIENTS, json=WEB_APP, headers=bearer(root_token))).json()
    rotated = await client.post(f"{CLIENTS}/{created['client_id']}/secret", headers=bearer(root_token))
    new_secret = rotated.json()["client_secret"]
    async with runtime.database.transaction() as session:  # the grace period ends now
        ended = await session.execute(
            update(ClientSecret).where(ClientSecret.expires_at.is_not(None)).values(expires_at=utcnow())
        )
        assert ended.rowcount == 1  # type: ignore[attr-defined]
    old = await client.post(
        "/oidc/introspect", data={"token": "x"}, auth=(created["client_id"], created["client_secret"])
    )
    assert (old.status_code, old.json()["error"]) == (401, "invalid_client")
    new = await client.post("/oidc/introspect", data={"token": "x"}, auth=(created["client_id"], new_secret))
    assert new.status_code == 200, new.text


async def test_update_and_delete(client: httpx.AsyncClient, root_token: str) -> None:
    created = (await client.post(CLIENTS, json=WEB_APP, headers=bearer(root_token))).json()
    path = f"{CLIENTS}/{created['client_id']}"
    changed = await client.patch(
        path, json={"name": "Renamed", "allowed_origins": ["https://app.example"]}, headers=bearer(root_token)
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["allowed_origins"]) == ("Renamed", ["https://app.example"])
    bad_origin = await client.patch(
        path, json={"allowed_origins": ["https://app.example/path"]}, headers=bearer(root_token)
    )
    assert bad_origin.status_code == 422
    assert (await client.delete(path, headers=bearer(root_token))).status_code == 204
    assert (await client.get(path, headers=bearer(root_token))).status_code == 404


async def test_org_owners_register_their_own_clients_and_nobody_elses(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    machine = {**WEB_APP, "grant_types": ["client_credentials"]}
    created = await client.post(tenant.path("/clients"), json=machine, headers=tenant.auth)
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    assert created.json()["org_id"] == tenant.id
    assert (await client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.auth)).status_code == 200
    assert (await client.get(other_tenant.path(f"/clients/{client_id}"), headers=other_tenant.auth)).status_code == 404
    assert (await client.get(f"{CLIENTS}/{client_id}", headers=bearer(root_token))).status_code == 404
    member = await tenant.add_user(roles=["member"])
    assert (await client.get(tenant.path("/clients"), headers=member.auth)).status_code == 403


async def test_client_credentials_only_for_confidential_org_clients(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    machine = {**WEB_APP, "grant_types": ["client_credentials"]}
    platform = await client.post(CLIENTS, json=machine, headers=bearer(root_token))
    assert platform.status_code == 422
    public = await client.post(tenant.path("/clients"), json={**machine, "type": "public"}, headers=tenant.auth)
    assert public.status_code == 422


@pytest.mark.parametrize("owner", ["org", "platform"])
async def test_answers_with_a_client_secret_are_never_cached(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, owner: str
) -> None:
    path, auth = (tenant.path("/clients"), tenant.auth) if owner == "org" else (CLIENTS, bearer(root_token))
    created = await client.post(path, json=WEB_APP, headers=auth)
    assert created.status_code == 201, created.text
    rotated = await client.post(f"{path}/{created.json()['client_id']}/secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    for answer in (created, rotated):
        assert (answer.headers["cache-control"], answer.headers["pragma"]) == ("no-store", "no-cache")
