"""A session that signed in without a second factor (a phished password, say) takes nothing the owner enrols
afterwards: it ends once the account has a factor (and stays ended when the factor goes), the session that set
the factor up stops refreshing and changes none of the factors, and an organization's requirement refuses such
sessions everywhere."""

import asyncio

import httpx
import pyotp
import pytest

from tenantry.core.users import password_signin
from tests.factories import PASSWORD, Member, Tenant, bearer
from tests.mailbox import csrf_of, submit
from tests.mfa.conftest import TOKEN, Held, TotpClock, answer, enrol, sign_in, two_factor_auth
from tests.mfa.test_hosted_pages import password_step

MFA = "/api/v1/me/mfa"


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


async def test_a_password_only_session_ends_once_the_account_has_a_factor_and_stays_ended(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("phished@example.com")
    stolen = (await sign_in(client, member.email)).json()
    own = (await sign_in(client, member.email)).json()
    app = await enrol(client, own["access_token"], totp_clock)  # the owner, in a session of their own
    await _ended(client, stolen)
    refused = await _refresh(client, own["refresh_token"])  # the session that set the app up mints no more
    assert "second factor" in refused.json()["error_description"], refused.text
    two_factors = await two_factor_auth(client, member.email, app, totp_clock)
    assert (await client.delete(f"{MFA}/totp", headers=two_factors)).status_code == 204  # a new phone, say
    await _ended(client, stolen)  # no factor for a while: the phished session does not come back


async def _ended(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    refreshed = await _refresh(client, tokens["refresh_token"])
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant"), refreshed.text
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 401


async def test_a_session_with_both_factors_goes_on_refreshing(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("owner2@example.com")
    app = await enrol(client, member.token, totp_clock)
    challenge = (await sign_in(client, member.email)).json()["mfa_token"]
    both = await client.post(
        TOKEN,
        data={
            "grant_type": "urn:tenantry:params:oauth:grant-type:mfa-otp",
            "mfa_token": challenge,
            "otp": app.code_at(totp_clock.now),
        },
    )
    assert (await _refresh(client, both.json()["refresh_token"])).status_code == 200


async def test_the_password_only_token_that_set_up_the_app_changes_no_factor_after_it(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("phished2@example.com")
    one_factor = member.auth
    app = await enrol(client, member.token, totp_clock)
    codes = await client.post(f"{MFA}/recovery-codes", headers=one_factor)
    assert codes.status_code == 403, codes.text
    assert "sign in again" in codes.text
    assert (await client.delete(f"{MFA}/totp", headers=one_factor)).status_code == 403
    assert (await client.get(MFA, headers=one_factor)).json()["recovery_codes_remaining"] == 10  # reading is fine
    two_factors = await two_factor_auth(client, member.email, app, totp_clock)
    assert (await client.post(f"{MFA}/recovery-codes", headers=two_factors)).status_code == 200


async def test_a_password_only_browser_session_changes_none_of_the_factors_enrolled_after_it(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await _phished_browser(client, tenant, "phished3@example.com", totp_clock)
    for change in ("/ui/account/mfa/recovery-codes", "/ui/account/mfa/remove"):
        refused = await client.post(change, data={"csrf_token": csrf_of((await client.get("/ui/sign-in")).text)})
        assert refused.headers["location"] == "/ui/sign-in", refused.text  # no session here any more
    assert (await client.get(MFA, headers=member.auth)).json()["recovery_codes_remaining"] == 10


async def test_an_admins_own_factors_take_a_second_factor_through_the_organizations_routes_too(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """An owner whose password-only token predates their authenticator app is refused on ``/me/mfa``, and the
    same on the organization's reset and import routes aimed at themselves: else the token removes the app,
    or sets one its holder knows and signs in with both factors."""
    stolen = tenant.owner.auth  # the session that sets the app up, the one-factor session that goes on
    await enrol(client, tenant.owner.token, totp_clock)
    mine = tenant.path(f"/users/{tenant.owner.id}/mfa")
    assert (await client.delete(mine, headers=stolen)).status_code == 403
    attackers = pyotp.random_base32()
    assert (await client.put(f"{mine}/totp", json={"secret": attackers}, headers=stolen)).status_code == 403
    mfa_token = (await sign_in(client, tenant.owner.email)).json()["mfa_token"]
    assert (await answer(client, mfa_token, pyotp.TOTP(attackers).at(totp_clock.now))).status_code == 400


async def _phished_browser(client: httpx.AsyncClient, tenant: Tenant, email: str, clock: TotpClock) -> Member:
    """A member whose browser signed in with the password alone, before the owner, elsewhere, enrolled an app."""
    member = await tenant.add_user(email)
    assert (await password_step(client, member.email)).headers["location"] == "/ui/account"
    await enrol(client, member.token, clock)
    return member


async def _console_creates_key(client: httpx.AsyncClient, slug: str) -> httpx.Response:
    page = await client.get("/ui/sign-in")  # any page of ours hands the browser its CSRF token
    fields = {"name": "backdoor", "roles": "owner", "csrf_token": csrf_of(page.text)}
    return await client.post(f"/console/{slug}/api-keys", data=fields)


async def test_a_password_only_browser_session_loses_the_console_once_the_owner_enrols(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """The browser session of a phished password is refused where its refresh tokens are: no console, no key
    minted that would outlive any reset."""
    assert (await password_step(client, tenant.owner.email)).headers["location"] == "/ui/account"
    assert (await client.get(f"/console/{tenant.slug}/api-keys")).status_code == 200
    await enrol(client, tenant.owner.token, totp_clock)
    page = await client.get(f"/console/{tenant.slug}/api-keys")
    assert page.headers["location"] == f"/ui/sign-in?continue=/console/{tenant.slug}/api-keys"
    created = await _console_creates_key(client, tenant.slug)
    assert created.headers["location"].startswith("/ui/sign-in"), created.text
    keys = await client.get(tenant.path("/api-keys"), headers=tenant.auth)
    assert keys.json()["items"] == [], keys.text
    assert (await client.get("/ui/account")).headers["location"] == "/ui/sign-in"
    assert (await client.get("/ui/sign-in")).status_code == 200  # the sign-in form, not a signed-in redirect


async def test_a_password_only_browser_session_loses_the_console_once_the_org_requires_a_factor(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await password_step(client, tenant.owner.email)).headers["location"] == "/ui/account"
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    created = await _console_creates_key(client, tenant.slug)
    assert created.headers["location"].startswith("/ui/sign-in"), created.text
    assert (await client.get(tenant.path("/api-keys"), headers=tenant.auth)).json()["items"] == []
    assert (await password_step(client, tenant.owner.email)).headers["location"] == "/ui/mfa/enrol"


async def test_a_password_only_browser_session_changes_no_password_once_the_owner_enrols(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await _phished_browser(client, tenant, "phished4@example.com", totp_clock)
    fields = {"current_password": PASSWORD, "new_password": "a brand new passphrase 42"}
    fields |= {
        "new_password_repeat": fields["new_password"],
        "csrf_token": csrf_of((await client.get("/ui/sign-in")).text),
    }
    changed = await client.post("/ui/account/password", data=fields)
    assert changed.headers["location"] == "/ui/sign-in", changed.text
    assert (await sign_in(client, member.email)).json()["mfa_token"]  # the password is the owner's still


async def test_a_browser_session_refused_for_want_of_a_factor_still_signs_out(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await password_step(client, tenant.owner.email)).headers["location"] == "/ui/account"
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    assert (await client.get("/ui/account")).headers["location"] == "/ui/sign-in"
    assert (await submit(client, "/ui/sign-out", "/ui/sign-out", {})).status_code == 200
    assert "has no session" in (await client.get("/ui/sign-out")).text


async def test_a_browser_session_of_the_password_alone_stays_ended_after_an_administrators_reset(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """The lost-phone procedure (an administrator resets the member's factors) leaves the account without one:
    the phished session ended when the app was set up, and does not come back."""
    member = await _phished_browser(client, tenant, "phished5@example.com", totp_clock)
    reset = await client.delete(tenant.path(f"/users/{member.id}/mfa"), headers=tenant.auth)
    assert reset.status_code == 204, reset.text
    assert (await client.get("/ui/account")).headers["location"] == "/ui/sign-in"
    assert (await _console_creates_key(client, tenant.slug)).headers["location"].startswith("/ui/sign-in")


async def test_a_password_sign_in_made_while_the_owner_confirms_an_app_ends_with_the_others(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-in of the password alone that read "no factor yet" as the owner confirmed an app stored its session
    after the confirmation looked for the sessions to end (PostgreSQL runs them side by side), and kept it. The
    confirmation now waits for the sign-in's lock on the account, and ends what it wrote."""
    member = await tenant.add_user("sign-in-race@example.com")
    secret = (await client.post(f"{MFA}/totp", headers=member.auth)).json()["secret"]
    held = Held(monkeypatch, password_signin, "signed_in")
    phished = asyncio.create_task(sign_in(client, member.email))
    await held.reached()
    code = pyotp.TOTP(secret).at(totp_clock.now)
    confirm = asyncio.create_task(client.post(f"{MFA}/totp/confirm", json={"code": code}, headers=member.auth))
    await asyncio.sleep(0.2)  # the confirmation goes as far as it can while the sign-in is held
    held.release()
    signed_in, confirmed = await asyncio.wait_for(asyncio.gather(phished, confirm), 20)
    assert confirmed.status_code == 200, confirmed.text
    await _ended(client, signed_in.json())
