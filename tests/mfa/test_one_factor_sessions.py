"""A session that signed in without a second factor (a phished password, say) takes nothing the owner enrols
afterwards: it stops refreshing once the account has a factor, and it changes none of the factors."""

import httpx
import pyotp

from tests.factories import Tenant, bearer
from tests.mailbox import submit
from tests.mfa.conftest import TOKEN, TotpClock, answer, enrol, sign_in, two_factor_auth
from tests.mfa.test_hosted_pages import password_step

MFA = "/api/v1/me/mfa"


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


async def test_a_password_only_session_stops_refreshing_once_the_account_has_a_factor(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("phished@example.com")
    stolen = (await sign_in(client, member.email)).json()
    await enrol(client, member.token, totp_clock)  # the owner, in a session of their own
    refreshed = await _refresh(client, stolen["refresh_token"])
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"
    assert "second factor" in refreshed.json()["error_description"]


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


async def test_a_password_only_token_changes_none_of_the_factors_enrolled_after_it(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("phished2@example.com")
    stolen = bearer((await sign_in(client, member.email)).json()["access_token"])
    app = await enrol(client, member.token, totp_clock)
    codes = await client.post(f"{MFA}/recovery-codes", headers=stolen)
    assert codes.status_code == 403, codes.text
    assert "sign in again" in codes.text
    assert (await client.delete(f"{MFA}/totp", headers=stolen)).status_code == 403
    assert (await client.get(MFA, headers=stolen)).json()["recovery_codes_remaining"] == 10  # reading is fine
    two_factors = await two_factor_auth(client, member.email, app, totp_clock)
    assert (await client.post(f"{MFA}/recovery-codes", headers=two_factors)).status_code == 200


async def test_a_password_only_browser_session_changes_none_of_the_factors_enrolled_after_it(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("phished3@example.com")
    assert (await password_step(client, member.email)).headers["location"] == "/ui/account"
    await enrol(client, member.token, totp_clock)  # the owner, elsewhere
    codes = await submit(client, "/ui/account", "/ui/account/mfa/recovery-codes", {})
    assert codes.status_code == 403, codes.text
    removed = await submit(client, "/ui/account", "/ui/account/mfa/remove", {})
    assert removed.status_code == 403


async def test_an_admins_own_factors_take_a_second_factor_through_the_organizations_routes_too(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """An owner whose password-only token predates their authenticator app is refused on ``/me/mfa``, and the
    same on the organization's reset and import routes aimed at themselves: else the token removes the app,
    or sets one its holder knows and signs in with both factors."""
    stolen = tenant.owner.auth
    fresh = (await sign_in(client, tenant.owner.email)).json()
    await enrol(client, fresh["access_token"], totp_clock)
    mine = tenant.path(f"/users/{tenant.owner.id}/mfa")
    assert (await client.delete(mine, headers=stolen)).status_code == 403
    attackers = pyotp.random_base32()
    assert (await client.put(f"{mine}/totp", json={"secret": attackers}, headers=stolen)).status_code == 403
    mfa_token = (await sign_in(client, tenant.owner.email)).json()["mfa_token"]
    assert (await answer(client, mfa_token, pyotp.TOTP(attackers).at(totp_clock.now))).status_code == 400
