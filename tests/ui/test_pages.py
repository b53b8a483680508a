"""Hosted pages: CSRF, cookies, security headers, labels, my account, sign-out."""

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tenantry.app import create_app
from tenantry.core.sessions.models import BrowserSession
from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import PASSWORD, Tenant, login
from tests.mailbox import Mailbox, csrf_of, submit

PAGES = ["/ui", "/ui/sign-in", "/ui/forgot-password", "/ui/sign-out", "/ui/sign-in?org=unknown"]


async def _signed_in(client: httpx.AsyncClient, email: str) -> None:
    response = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


@pytest.mark.parametrize("page", PAGES)
async def test_every_input_has_a_label_and_the_page_scales_on_phones(client: httpx.AsyncClient, page: str) -> None:
    html = (await client.get(page)).text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="en">' in html
    for input_id in re.findall(r'<input id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html, input_id
    assert (await client.get("/ui/static/tenantry.css")).status_code == 200


async def test_pages_send_security_headers(client: httpx.AsyncClient) -> None:
    headers = (await client.get("/ui/sign-in")).headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.get("/ui/sign-in")
    fields = {"email": tenant.owner.email, "password": PASSWORD}
    assert (await client.post("/ui/sign-in", data=fields)).status_code == 403
    forged = {**fields, "csrf_token": "forged-forged-forged-forged"}
    assert (await client.post("/ui/sign-in", data=forged)).status_code == 403
    token = csrf_of((await client.get("/ui/sign-in")).text)
    foreign = await client.post(
        "/ui/sign-in", data={**fields, "csrf_token": token}, headers={"origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert "tenantry_session" not in foreign.headers.get("set-cookie", "")


async def test_session_cookie_is_httponly_lax_and_stored_hashed(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    fields = {"email": tenant.owner.email, "password": PASSWORD}
    response = await submit(client, "/ui/sign-in", "/ui/sign-in", fields)
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("tenantry_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the test base URL is http
    secret = cookie.split("=", 1)[1].split(";", 1)[0]
    async with runtime.database.transaction(write=False) as session:
        stored = (await session.scalars(select(BrowserSession))).one()
    assert secret not in (stored.token_hash, stored.id)


async def test_over_https_cookies_are_secure_and_host_prefixed(
    runtime: Runtime, database_url: str, tenant: Tenant
) -> None:
    settings = settings_for(database_url, base_url="https://id.example")
    secure_runtime = Runtime(**{**runtime.__dict__, "settings": settings})
    app: FastAPI = create_app(runtime=secure_runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://id.example") as client:
        fields = {"email": tenant.owner.email, "password": PASSWORD}
        response = await submit(client, "/ui/sign-in", "/ui/sign-in", fields)
        cookies = response.headers.get_list("set-cookie")
    session_cookie = next(value for value in cookies if value.startswith("__Host-tenantry_session="))
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie
    assert "Path=/" in session_cookie


async def test_wrong_password_keeps_the_form_with_a_message(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": tenant.owner.email, "password": "nope"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Invalid email address or password" in response.text  # as the field is labelled
    assert "tenantry_session" not in response.headers.get("set-cookie", "")


async def test_account_page_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sign-in"


async def test_my_account_shows_profile_and_organizations_and_saves_names(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    member = await tenant.add_user("me@example.com", roles=["viewer"])
    await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    await _signed_in(client, member.email)
    page = (await client.get("/ui/account")).text
    assert "me@example.com" in page
    assert "Acme" in page
    assert "Globex" in page
    saved = await client.post(
        "/ui/account/profile", data={"first_name": "Mia", "last_name": "Example", "csrf_token": csrf_of(page)}
    )
    assert saved.headers["location"] == "/ui/account?notice=profile"
    me = (await client.get("/api/v1/me", headers=member.auth)).json()
    assert (me["first_name"], me["last_name"]) == ("Mia", "Example")


async def test_my_account_changes_the_password_and_keeps_this_browser_signed_in(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user("changer@example.com")
    await _signed_in(client, member.email)
    token = csrf_of((await client.get("/ui/account")).text)
    fields = {"current_password": PASSWORD, "new_password": "changed in my account", "csrf_token": token}
    mismatch = await client.post("/ui/account/password", data={**fields, "new_password_repeat": "other"})
    assert mismatch.status_code == 400
    wrong_fields = {**fields, "current_password": "nope", "new_password_repeat": fields["new_password"]}
    wrong = await client.post("/ui/account/password", data=wrong_fields)
    assert wrong.status_code == 400
    assert "Your current password is not correct." in wrong.text
    done = await client.post("/ui/account/password", data={**fields, "new_password_repeat": fields["new_password"]})
    assert done.headers["location"] == "/ui/account?notice=password"
    assert (await client.get("/ui/account")).status_code == 200
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 401  # other sessions ended
    assert (await login(client, member.email, "changed in my account"))["access_token"]


async def test_my_account_sends_a_verification_email(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("verify-me@example.com")
    await _signed_in(client, member.email)
    token = csrf_of((await client.get("/ui/account")).text)
    sent = await client.post("/ui/account/verify-email", data={"csrf_token": token})
    assert sent.headers["location"] == "/ui/account?notice=verification"
    assert (await mailbox.one_for(member.email)).subject == "Confirm your email address"


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await _signed_in(client, tenant.owner.email)
    cookie = client.cookies.get("tenantry_session")
    token = csrf_of((await client.get("/ui/account")).text)
    out = await client.post("/ui/sign-out", data={"csrf_token": token})
    assert out.status_code == 200
    assert "You are signed out" in out.text
    assert (await client.get("/ui/account")).status_code == 303
    client.cookies.set("tenantry_session", cookie or "")
    assert (await client.get("/ui/account")).status_code == 303  # the old cookie value is dead too


async def test_disabling_the_account_ends_its_browser_sessions(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user("to-disable@example.com")
    await _signed_in(client, member.email)
    await client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)
    assert (await client.get("/ui/account")).status_code == 303


async def test_unknown_link_tokens_show_the_dead_link_page(client: httpx.AsyncClient) -> None:
    for page in ("activate", "reset-password", "verify-email", "magic"):
        response = await client.get(f"/ui/{page}?token=not-a-token")
        assert response.status_code == 410
        assert "This link no longer works" in response.text
    assert (await client.get("/ui/magic")).status_code == 410
