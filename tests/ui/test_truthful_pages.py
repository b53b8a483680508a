"""Hosted pages tell the truth: the org's own password rules, who is being activated, sign-out, /ui, unknown orgs."""

import httpx

from tests.factories import PASSWORD, Tenant
from tests.mailbox import Mailbox, csrf_of, submit

STRICT = {"min_length": 12, "require_digit": True, "require_symbol": True}
STRICT_HINT = "At least 12 characters. Include a digit. Include a symbol, such as ! or #."


async def _signed_in(client: httpx.AsyncClient, email: str) -> None:
    response = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def test_the_password_hint_states_the_organizations_own_policy(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    changed = await client.patch(tenant.path(""), json={"password_policy": STRICT}, headers=tenant.auth)
    assert changed.status_code == 200, changed.text
    await client.post(tenant.path("/users"), json={"email": "strict@example.com"}, headers=tenant.auth)
    link = (await mailbox.one_for("strict@example.com")).link

    page = await client.get(link)
    assert STRICT_HINT in page.text
    assert "At least 8 characters" not in page.text
    fields = {"token": link.split("token=")[1], "password": "short", "password_repeat": "short"}
    refused = await submit(client, link, "/ui/activate", fields)
    assert refused.status_code == 400
    assert STRICT_HINT in refused.text  # the hint beside the error says what the error demands


async def test_the_forced_change_page_states_the_policy_too(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.patch(tenant.path(""), json={"password_policy": STRICT}, headers=tenant.auth)
    member = await tenant.add_user("forced@example.com", password="Temporary pass 1!")
    body = {"password": "Temporary pass 2!", "require_change": True}
    assert (await client.post(tenant.path(f"/users/{member.id}/password"), json=body, headers=tenant.auth)).is_success
    fields = {"email": member.email, "password": "Temporary pass 2!"}
    page = await submit(client, "/ui/sign-in", "/ui/sign-in", fields)
    assert "Choose a new password" in page.text
    assert STRICT_HINT in page.text


async def test_a_reset_refuses_the_current_password(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("same@example.com")
    await client.post("/api/v1/auth/password-reset", json={"email": member.email})
    link = (await mailbox.one_for(member.email)).link
    fields = {"token": link.split("token=")[1], "password": PASSWORD, "password_repeat": PASSWORD}
    refused = await submit(client, link, "/ui/reset-password", fields)
    assert refused.status_code == 400
    assert "Choose a password different from your current one." in refused.text
    assert (await client.get(link)).status_code == 200  # the link still works


async def test_get_sign_out_asks_with_a_button_that_posts_the_form(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await _signed_in(client, tenant.owner.email)
    page = await client.get("/ui/sign-out")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/ui/sign-out">' in page.text
    assert f"Sign {tenant.owner.email} out of this browser?" in page.text
    assert (await client.get("/ui/account")).status_code == 200  # opening the page signed nobody out
    done = await client.post("/ui/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert "You are signed out" in done.text
    assert (await client.get("/ui/account")).status_code == 303


async def test_get_sign_out_without_a_session_says_so(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/sign-out")
    assert page.status_code == 200
    assert "You are not signed in" in page.text


async def test_ui_has_a_landing_page(client: httpx.AsyncClient, tenant: Tenant) -> None:
    anonymous = await client.get("/ui")
    assert anonymous.status_code == 200
    assert 'href="/ui/sign-in"' in anonymous.text
    await _signed_in(client, tenant.owner.email)
    signed_in = await client.get("/ui")
    assert f"You are signed in as {tenant.owner.email}" in signed_in.text
    assert 'href="/ui/account"' in signed_in.text
    assert 'href="/ui/sign-out"' in signed_in.text


async def test_sign_in_names_a_known_organization_and_says_an_unknown_one_is_unknown(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    known = await client.get("/ui/sign-in", params={"org": tenant.slug})
    assert f"Sign in to {tenant.slug.title()}" in known.text
    unknown = await client.get("/ui/sign-in", params={"org": "no-such-org"})
    assert unknown.status_code == 404
    assert "There is no organization “no-such-org”" in unknown.text
    assert 'name="org" value=""' in unknown.text  # the form still signs in, without the unknown org


async def test_an_invitation_to_join_speaks_the_invitees_language_and_names_the_org_as_branded(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("joiner@example.com")
    changed = await client.patch(tenant.path(f"/users/{member.id}"), json={"locale": "de"}, headers=tenant.auth)
    assert changed.status_code == 200
    branding = {"branding": {"display_name": "Kestrel Bank"}}
    assert (await client.patch(other_tenant.path(), json=branding, headers=other_tenant.auth)).status_code == 200
    asked = await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    assert asked.status_code < 300, asked.text
    link = (await mailbox.one_for(member.email)).link
    client.headers["Accept-Language"] = "fr"
    page = await client.get(link)
    assert '<html lang="de">' in page.text
    assert "<h1>Kestrel Bank beitreten?</h1>" in page.text
    assert other_tenant.slug.title() not in page.text
    accepted = await submit(client, link, "/ui/join", {"token": link.split("token=")[1], "answer": "accept"})
    assert accepted.status_code == 200, accepted.text
    assert '<html lang="de">' in accepted.text
    assert "Kestrel Bank" in accepted.text
