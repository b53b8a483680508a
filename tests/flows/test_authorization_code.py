"""Hosted sign-in for an organization with a login redirect: the browser goes there with a one-time code."""

from urllib.parse import parse_qsl

import httpx
from sqlalchemy import update

from tenantry.core.onetime.models import OneTimeToken
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, bearer
from tests.mailbox import submit

TOKEN = "/api/v1/auth/token"
APP = "https://app.acme.example/signed-in"


async def _sign_in(client: httpx.AsyncClient, email: str, query: str) -> httpx.Response:
    """Open the sign-in page with ``query`` and post its form (which carries ``org`` and ``state`` along)."""
    fields = {"email": email, "password": PASSWORD, **dict(parse_qsl(query))}
    return await submit(client, f"/ui/sign-in?{query}", "/ui/sign-in", fields)


async def test_sign_in_for_an_org_with_a_redirect_hands_over_a_code(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.patch(tenant.path(), json={"login_redirect_url": APP}, headers=tenant.auth)
    member = await tenant.add_user("app-user@example.com")
    page = await client.get("/ui/sign-in?org=acme&state=xyz")
    assert "Sign in to Acme" in page.text
    signed_in = await _sign_in(client, member.email, "org=acme&state=xyz")
    assert signed_in.status_code == 303
    location = signed_in.headers["location"]
    assert location.startswith(f"{APP}?code=")
    assert location.endswith("&state=xyz")
    code = location.split("code=")[1].split("&")[0]
    tokens = await client.post(TOKEN, data={"grant_type": "authorization_code", "code": code})
    assert tokens.status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(tokens.json()["access_token"]))).json()["id"] == member.id
    # The browser keeps its session: signing in for the app again goes straight back with a new code.
    again = await client.get("/ui/sign-in?org=acme")
    assert again.status_code == 303
    assert again.headers["location"].startswith(f"{APP}?code=")


async def test_without_a_redirect_sign_in_lands_on_my_account(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user("plain@example.com")
    signed_in = await _sign_in(client, member.email, "org=acme")
    assert signed_in.headers["location"] == "/ui/account"


async def test_non_members_get_no_code_for_the_org(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await client.patch(tenant.path(), json={"login_redirect_url": APP}, headers=tenant.auth)
    outsider = await other_tenant.add_user("outsider@example.com")
    signed_in = await _sign_in(client, outsider.email, "org=acme")
    assert signed_in.headers["location"] == "/ui/account"


async def test_expired_codes_are_refused(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    await client.patch(tenant.path(), json={"login_redirect_url": APP}, headers=tenant.auth)
    member = await tenant.add_user()
    location = (await _sign_in(client, member.email, "org=acme")).headers["location"]
    async with runtime.database.transaction() as session:
        await session.execute(update(OneTimeToken).values(expires_at=utcnow()))
    code = location.split("code=")[1]
    refused = await client.post(TOKEN, data={"grant_type": "authorization_code", "code": code})
    assert refused.json()["error"] == "invalid_grant"


async def test_code_grant_needs_a_code(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "authorization_code"})
    assert response.json()["error"] == "invalid_request"


async def test_login_redirect_url_must_be_http_and_can_be_removed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for bad in ("javascript:alert(1)", "/relative", "https://x.example/#frag", "ftp://x.example"):
        response = await client.patch(tenant.path(), json={"login_redirect_url": bad}, headers=tenant.auth)
        assert response.status_code == 422, bad
    await client.patch(tenant.path(), json={"login_redirect_url": APP}, headers=tenant.auth)
    removed = await client.patch(tenant.path(), json={"login_redirect_url": None}, headers=tenant.auth)
    assert "login_redirect_url" not in removed.json()["settings"]
