"""A user who must change their password gets a change ticket from the token endpoint instead of tokens."""

import httpx
from sqlalchemy import update

from tenantry.core.onetime.models import OneTimeToken
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer, login
from tests.mailbox import submit

TOKEN = "/api/v1/auth/token"
CHANGE = "/api/v1/auth/password-change"
TEMPORARY = "temporary from the admin"


async def _flagged(client: httpx.AsyncClient, tenant: Tenant, email: str = "flagged@example.com") -> str:
    member = await tenant.add_user(email)
    response = await client.post(
        tenant.path(f"/users/{member.id}/password"),
        json={"password": TEMPORARY, "require_change": True},
        headers=tenant.auth,
    )
    assert response.status_code == 204
    return email


async def _ticket(client: httpx.AsyncClient, email: str) -> dict[str, object]:
    response = await client.post(TOKEN, data={"grant_type": "password", "username": email, "password": TEMPORARY})
    assert response.status_code == 400
    return dict(response.json())


async def test_token_endpoint_answers_password_change_required_with_a_ticket(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = await _flagged(client, tenant)
    body = await _ticket(client, email)
    assert body["error"] == "password_change_required"
    assert body["change_ticket_expires_in"] == 600
    assert "access_token" not in body
    assert len(str(body["change_ticket"])) >= 43


async def test_the_ticket_sets_a_new_password_and_answers_tokens(client: httpx.AsyncClient, tenant: Tenant) -> None:
    email = await _flagged(client, tenant)
    ticket = (await _ticket(client, email))["change_ticket"]
    changed = await client.post(CHANGE, json={"change_ticket": ticket, "new_password": "my own new password"})
    assert changed.status_code == 200, changed.text
    me = (await client.get("/api/v1/me", headers=bearer(changed.json()["access_token"]))).json()
    assert me["password_change_required"] is False
    assert (await login(client, email, "my own new password"))["access_token"]
    replay = await client.post(CHANGE, json={"change_ticket": ticket, "new_password": "yet another password"})
    assert replay.status_code == 422
    assert replay.json()["errors"][0]["field"] == "change_ticket"


async def test_the_ticket_does_nothing_else(client: httpx.AsyncClient, tenant: Tenant) -> None:
    email = await _flagged(client, tenant)
    ticket = str((await _ticket(client, email))["change_ticket"])
    assert (await client.get("/api/v1/me", headers=bearer(ticket))).status_code == 401
    grant = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": ticket})
    assert grant.json()["error"] == "invalid_grant"


async def test_the_new_password_follows_the_policy_and_must_differ(client: httpx.AsyncClient, tenant: Tenant) -> None:
    email = await _flagged(client, tenant)
    ticket = (await _ticket(client, email))["change_ticket"]
    short = await client.post(CHANGE, json={"change_ticket": ticket, "new_password": "short"})
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "new_password"
    same = await client.post(CHANGE, json={"change_ticket": ticket, "new_password": TEMPORARY})
    assert same.json()["errors"] == [
        {"field": "new_password", "message": "must differ from the current password", "code": "same_as_current"}
    ]
    ok = await client.post(CHANGE, json={"change_ticket": ticket, "new_password": "now it is different"})
    assert ok.status_code == 200


async def test_an_expired_ticket_is_refused(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    email = await _flagged(client, tenant)
    ticket = (await _ticket(client, email))["change_ticket"]
    async with runtime.database.transaction() as session:
        await session.execute(update(OneTimeToken).values(expires_at=utcnow()))
    refused = await client.post(CHANGE, json={"change_ticket": ticket, "new_password": "too late for this"})
    assert refused.status_code == 422


async def test_sign_in_page_asks_for_the_new_password_then_signs_in(client: httpx.AsyncClient, tenant: Tenant) -> None:
    email = await _flagged(client, tenant)
    page = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": email, "password": TEMPORARY})
    assert page.status_code == 200
    assert "Choose a new password" in page.text
    ticket = page.text.split('name="change_ticket" value="')[1].split('"')[0]
    done = await submit(
        client,
        "/ui/forgot-password",
        "/ui/change-password",
        {"change_ticket": ticket, "password": "chosen on the page", "password_repeat": "chosen on the page"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/ui/account"
    assert (await client.get("/ui/account")).status_code == 200
    assert (await login(client, email, "chosen on the page"))["access_token"]
