"""The hosted pages: the second step after password sign-in and magic links, enrolment on my account."""

import re

import httpx
import pyotp

from tests.factories import PASSWORD, Tenant
from tests.mailbox import Mailbox, csrf_of, submit
from tests.mfa.conftest import TotpClock, enrol


async def password_step(client: httpx.AsyncClient, email: str) -> httpx.Response:
    response = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return response


async def test_password_sign_in_goes_to_the_code_page_and_the_code_opens_the_session(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    first = await password_step(client, tenant.owner.email)
    assert first.headers["location"] == "/ui/mfa"
    assert "tenantry_session" not in first.headers.get("set-cookie", "")
    mfa_cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith("tenantry_mfa="))
    assert "HttpOnly" in mfa_cookie
    assert (await client.get("/ui/account")).headers["location"] == "/ui/sign-in"  # not signed in yet
    page = await client.get("/ui/mfa")
    assert 'autocomplete="one-time-code"' in page.text
    assert "Use a recovery code" in page.text
    wrong = await client.post("/ui/mfa", data={"code": "000000", "method": "otp", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 400
    assert "wrong or already used" in wrong.text
    right = await client.post(
        "/ui/mfa", data={"code": app.code_at(totp_clock.now), "method": "otp", "csrf_token": csrf_of(page.text)}
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/ui/account"
    account = await client.get("/ui/account")
    assert account.status_code == 200
    assert "Authenticator app" in account.text


async def test_a_recovery_code_works_on_the_page(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    await password_step(client, tenant.owner.email)
    response = await submit(
        client, "/ui/mfa?method=recovery_code", "/ui/mfa", {"code": app.recovery_codes[3], "method": "recovery_code"}
    )
    assert response.status_code == 303
    assert "9 recovery codes left" in (await client.get("/ui/account")).text


async def test_the_code_page_without_a_sign_in_in_progress_goes_to_sign_in(client: httpx.AsyncClient) -> None:
    assert (await client.get("/ui/mfa")).headers["location"] == "/ui/sign-in"
    page = await client.get("/ui/sign-in")
    dead = await client.post("/ui/mfa", data={"code": "123456", "csrf_token": csrf_of(page.text)})
    assert dead.status_code == 410


async def test_the_authorization_request_being_signed_in_for_survives_the_second_step(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    back = "/oidc/authorize?client_id=abc&response_type=code"
    fields = {"email": tenant.owner.email, "password": PASSWORD, "continue": back}
    first = await submit(client, "/ui/sign-in", "/ui/sign-in", fields)
    assert first.headers["location"].startswith("/ui/mfa?continue=")
    page = await client.get(first.headers["location"])
    assert f'value="{back.replace("&", "&amp;")}"' in page.text
    done = await client.post(
        "/ui/mfa",
        data={"code": app.code_at(totp_clock.now), "method": "otp", "continue": back, "csrf_token": csrf_of(page.text)},
    )
    assert done.headers["location"] == back
    elsewhere = await client.get("/ui/mfa?continue=https://evil.example/")
    assert "evil.example" not in elsewhere.text


async def test_a_magic_link_asks_for_the_second_factor_too(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    app = await enrol(client, member.token, totp_clock)
    link = (await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    token = link.split("token=")[1]
    used = await submit(client, f"/ui/magic?token={token}", "/ui/magic", {"token": token})
    assert used.headers["location"] == f"/ui/mfa?org={tenant.slug}"  # the link's org, carried for its branding
    done = await submit(client, "/ui/mfa", "/ui/mfa", {"code": app.code_at(totp_clock.now), "method": "otp"})
    assert done.headers["location"] == "/ui/account"
    assert member.email in (await client.get("/ui/account")).text


async def test_setting_up_an_app_on_my_account_with_a_server_drawn_qr_code(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    await password_step(client, tenant.owner.email)
    account = await client.get("/ui/account")
    assert 'href="/ui/account/mfa"' in account.text
    page = await client.get("/ui/account/mfa")
    assert page.status_code == 200
    assert '<svg width="' in page.text
    assert "<img" not in page.text
    assert "http" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    assert secret.group(1) in (await client.get("/ui/account/mfa")).text  # the same secret until confirmed
    wrong = await client.post("/ui/account/mfa", data={"code": "000000", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 400
    done = await client.post(
        "/ui/account/mfa",
        data={"code": pyotp.TOTP(secret.group(1)).at(totp_clock.now), "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}</code></li>", done.text)) == 10
    assert "10 recovery codes left" in (await client.get("/ui/account")).text  # typing the code proved the app
    totp_clock.advance(30)
    client.cookies.clear()  # a new browser signs in with both factors
    assert (await password_step(client, tenant.owner.email)).headers["location"] == "/ui/mfa"
    code = pyotp.TOTP(secret.group(1)).at(totp_clock.now)
    assert (await submit(client, "/ui/mfa", "/ui/mfa", {"code": code, "method": "otp"})).status_code == 303
    removed = await submit(client, "/ui/account", "/ui/account/mfa/remove", {})
    assert removed.headers["location"] == "/ui/account?notice=mfa_removed"
    assert 'href="/ui/account/mfa"' in (await client.get("/ui/account")).text


async def test_a_member_of_an_org_requiring_mfa_enrols_during_sign_in(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    first = await password_step(client, member.email)
    assert first.headers["location"] == "/ui/mfa/enrol"
    page = await client.get("/ui/mfa/enrol")
    assert "requires two-step verification" in page.text
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    done = await client.post(
        "/ui/mfa/enrol",
        data={"code": pyotp.TOTP(secret.group(1)).at(totp_clock.now), "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 200
    assert "Save your recovery codes" in done.text
    assert (await client.get("/ui/account")).status_code == 200


async def test_an_invitee_of_an_org_requiring_mfa_sets_up_an_app_before_the_session_opens(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    created = await client.post(tenant.path("/users"), json={"email": "mfa-invitee@example.com"}, headers=tenant.auth)
    assert created.status_code == 201
    link = (await mailbox.one_for("mfa-invitee@example.com")).link
    path = link.removeprefix("http://testserver")
    token = link.split("token=")[1]
    fields = {
        "token": token,
        "password": "quiet river under a stone",
        "password_repeat": "quiet river under a stone",
    }
    activated = await submit(client, path, "/ui/activate", fields)
    assert activated.status_code == 303
    assert activated.headers["location"] == f"/ui/mfa/enrol?org={tenant.slug}"
    assert "tenantry_session" not in activated.headers.get("set-cookie", "")
    assert (await client.get("/ui/account")).headers["location"] == "/ui/sign-in"


BRANDING = {"display_name": "Kestrel Bank", "primary_color": "#7a1f5c"}


def _assert_branded(page: httpx.Response, tenant: Tenant) -> None:
    assert '<span class="brand">Kestrel Bank</span>' in page.text
    assert f'<link rel="stylesheet" href="/ui/brand/{tenant.id}/style.css?v=7a1f5c">' in page.text
    assert "Tenantry" not in page.text


async def test_the_second_step_keeps_the_branding_of_the_org_the_sign_in_named(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    assert (await client.patch(tenant.path(), json={"branding": BRANDING}, headers=tenant.auth)).status_code == 200
    app = await enrol(client, tenant.owner.token, totp_clock)
    fields = {"email": tenant.owner.email, "password": PASSWORD, "org": tenant.slug}
    first = await submit(client, f"/ui/sign-in?org={tenant.slug}", "/ui/sign-in", fields)
    assert first.headers["location"] == f"/ui/mfa?org={tenant.slug}"
    page = await client.get(first.headers["location"])
    _assert_branded(page, tenant)
    assert f'<input type="hidden" name="org" value="{tenant.slug}">' in page.text
    assert f"/ui/mfa?method=recovery_code&amp;org={tenant.slug}" in page.text
    token = csrf_of(page.text)
    wrong = await client.post("/ui/mfa", data={"code": "000000", "org": tenant.slug, "csrf_token": token})
    assert wrong.status_code == 400
    _assert_branded(wrong, tenant)
    recovery = await client.get(f"/ui/mfa?method=recovery_code&org={tenant.slug}")
    _assert_branded(recovery, tenant)
    right = await client.post(
        "/ui/mfa", data={"code": app.code_at(totp_clock.now), "org": tenant.slug, "csrf_token": token}
    )
    assert right.status_code == 303


async def test_enrolment_required_by_the_org_is_branded_up_to_the_recovery_codes(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    changed = await client.patch(tenant.path(), json={"mfa_required": True, "branding": BRANDING}, headers=tenant.auth)
    assert changed.status_code == 200
    fields = {"email": member.email, "password": PASSWORD, "org": tenant.id}
    first = await submit(client, f"/ui/sign-in?org={tenant.id}", "/ui/sign-in", fields)
    assert first.headers["location"] == f"/ui/mfa/enrol?org={tenant.id}"
    page = await client.get(first.headers["location"])
    _assert_branded(page, tenant)
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    wrong = await client.post(
        "/ui/mfa/enrol", data={"code": "000000", "org": tenant.id, "csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 400
    _assert_branded(wrong, tenant)
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', wrong.text)
    assert secret is not None
    code = pyotp.TOTP(secret.group(1)).at(totp_clock.now)
    done = await client.post("/ui/mfa/enrol", data={"code": code, "org": tenant.id, "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200
    assert "Save your recovery codes" in done.text
    _assert_branded(done, tenant)


async def test_a_required_password_change_carries_the_org_to_the_second_step(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user()
    changed = await client.patch(tenant.path(), json={"mfa_required": True, "branding": BRANDING}, headers=tenant.auth)
    assert changed.status_code == 200
    temporary = "temporary from the admin"
    flagged = await client.post(
        tenant.path(f"/users/{member.id}/password"),
        json={"password": temporary, "require_change": True},
        headers=tenant.auth,
    )
    assert flagged.status_code == 204
    fields = {"email": member.email, "password": temporary, "org": tenant.slug}
    page = await submit(client, f"/ui/sign-in?org={tenant.slug}", "/ui/sign-in", fields)
    _assert_branded(page, tenant)
    assert f'<input type="hidden" name="org" value="{tenant.slug}">' in page.text
    ticket = page.text.split('name="change_ticket" value="')[1].split('"')[0]
    chosen = {"change_ticket": ticket, "password": "chosen on the page", "password_repeat": "chosen on the page"}
    chosen.update(org=tenant.slug, csrf_token=csrf_of(page.text))
    done = await client.post("/ui/change-password", data=chosen)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/ui/mfa/enrol?org={tenant.slug}"


async def test_links_that_go_on_to_a_second_step_keep_the_orgs_branding(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, totp_clock: TotpClock
) -> None:
    """An activation (enrolment required) and a magic link (an app enrolled) reach the second step with the
    organization the link was made for: its pages wear its branding, not Tenantry's."""
    member = await tenant.add_user()
    await enrol(client, member.token, totp_clock)
    changed = await client.patch(tenant.path(), json={"mfa_required": True, "branding": BRANDING}, headers=tenant.auth)
    assert changed.status_code == 200
    assert (await client.post(tenant.path("/users"), json={"email": "br@example.com"}, headers=tenant.auth)).is_success
    link = (await mailbox.one_for("br@example.com")).link
    token = link.split("token=")[1]
    chosen = {"token": token, "password": "quiet river under a stone", "password_repeat": "quiet river under a stone"}
    activated = await submit(client, link.removeprefix("http://testserver"), "/ui/activate", chosen)
    assert activated.headers["location"] == f"/ui/mfa/enrol?org={tenant.slug}"
    _assert_branded(await client.get(activated.headers["location"]), tenant)

    magic = (await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    token = magic.split("token=")[1]
    used = await submit(client, f"/ui/magic?token={token}", "/ui/magic", {"token": token})
    assert used.headers["location"] == f"/ui/mfa?org={tenant.slug}"
    page = await client.get(used.headers["location"])
    _assert_branded(page, tenant)
    assert f'<input type="hidden" name="org" value="{tenant.slug}">' in page.text


async def test_the_second_step_speaks_the_language_of_the_account_signing_in(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """The password is proven, so the account is known: its ``locale`` comes before the browser's languages, as
    on every page of a known user; an OpenID request's ``ui_locales`` still wins."""
    member = await tenant.add_user()
    changed = await client.patch(tenant.path(f"/users/{member.id}"), json={"locale": "de"}, headers=tenant.auth)
    assert changed.status_code == 200
    await enrol(client, member.token, totp_clock)
    client.headers["Accept-Language"] = "fr"
    first = await password_step(client, member.email)
    page = await client.get(first.headers["location"])
    assert '<html lang="de">' in page.text
    wrong = await client.post("/ui/mfa", data={"code": "000000", "method": "otp", "csrf_token": csrf_of(page.text)})
    assert '<html lang="de">' in wrong.text
    assert "Dieser Code ist falsch oder wurde bereits verwendet" in wrong.text
    back = "/oidc/authorize?client_id=abc&response_type=code&ui_locales=fr"
    fields = {"email": member.email, "password": PASSWORD, "continue": back}
    again = await submit(client, "/ui/sign-in", "/ui/sign-in", fields)
    assert '<html lang="fr">' in (await client.get(again.headers["location"])).text
