"""GET /me and POST /me/password."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, accept_invitation, bearer, login


async def test_me_lists_memberships_with_roles(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    await client.post(
        other_tenant.path("/members"),
        json={"email": tenant.owner.email, "roles": ["viewer"]},
        headers=other_tenant.auth,
    )
    await accept_invitation(runtime, tenant.owner.id, other_tenant.slug)
    me = (await client.get("/api/v1/me", headers=tenant.auth)).json()
    assert me["email"] == tenant.owner.email
    assert me["platform_admin"] is False
    assert [(m["org_slug"], m["roles"]) for m in me["memberships"]] == [("acme", ["owner"]), ("globex", ["viewer"])]


async def test_me_requires_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["type"] == "urn:tenantry:problem:unauthenticated"


async def test_malformed_authorization_header_is_401(client: httpx.AsyncClient) -> None:
    for header in ("Basic abc", "Bearer", "Bearer not.a.jwt", "Bearer " + "x" * 5000):
        assert (await client.get("/api/v1/me", headers={"Authorization": header})).status_code == 401


async def test_password_change_ends_every_session(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user("changer@example.com")
    tokens = await login(client, member.email)
    response = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=member.auth,
    )
    assert response.status_code == 204
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 400
    fresh = await login(client, member.email, "a brand new passphrase")
    assert (await client.get("/api/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_password_change_checks_current_password_and_policy(client: httpx.AsyncClient, tenant: Tenant) -> None:
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "nope", "new_password": "long enough pass"},
        headers=tenant.auth,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "current_password", "message": "is incorrect", "code": "incorrect_current_password"}
    ]
    short = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=tenant.auth
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "new_password"
