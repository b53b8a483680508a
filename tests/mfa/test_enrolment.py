"""Enrolling and removing an authenticator app, and recovery codes, over /api/v1/me/mfa."""

import asyncio
import re

import httpx
import pyotp
import pytest
from sqlalchemy import select

from tenantry.core.mfa import repository
from tenantry.core.mfa.models import MfaFactor, RecoveryCode
from tenantry.core.tokens.service import digest
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer
from tests.mailbox import csrf_of
from tests.mfa.conftest import Authenticator, Held, TotpClock, answer, enrol, sign_in, two_factor_auth
from tests.mfa.test_hosted_pages import password_step

MFA = "/api/v1/me/mfa"


async def test_enrolment_gives_an_otpauth_uri_and_ten_recovery_codes(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    started = (await client.post(f"{MFA}/totp", headers=tenant.auth)).json()
    assert started["otpauth_uri"].startswith("otpauth://totp/Tenantry:")
    assert pyotp.parse_uri(started["otpauth_uri"]).secret == started["secret"]
    code = pyotp.TOTP(started["secret"]).at(totp_clock.now)
    confirmed = await client.post(f"{MFA}/totp/confirm", json={"code": code}, headers=tenant.auth)
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    status = (await client.get(MFA, headers=tenant.auth)).json()
    assert status["methods"] == ["otp", "recovery_code"]
    assert status["recovery_codes_remaining"] == 10
    assert status["totp"]["enrolled_at"]
    assert status["required"] is False


async def test_a_wrong_code_does_not_confirm_the_app(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    secret = (await client.post(f"{MFA}/totp", headers=tenant.auth)).json()["secret"]
    old = pyotp.TOTP(secret).at(totp_clock.now - 90)
    refused = await client.post(f"{MFA}/totp/confirm", json={"code": old}, headers=tenant.auth)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "code"
    assert (await client.get(MFA, headers=tenant.auth)).json()["methods"] == []


async def test_secrets_and_recovery_codes_are_not_stored_in_the_clear(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    async with runtime.database.transaction(write=False) as session:
        factor = (await session.scalars(select(MfaFactor))).one()
        hashes = set(await session.scalars(select(RecoveryCode.code_hash)))
    assert app.secret not in factor.secret_sealed
    assert all(code not in hashes and code.replace("-", "") not in hashes for code in app.recovery_codes)
    assert digest(app.recovery_codes[0].replace("-", "")) in hashes


async def test_a_second_app_waits_until_the_first_is_removed(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    assert (await client.post(f"{MFA}/totp", headers=tenant.auth)).status_code == 409
    assert (await client.delete(f"{MFA}/totp", headers=tenant.auth)).status_code == 403  # password alone
    two_factors = await two_factor_auth(client, tenant.owner.email, app, totp_clock)
    assert (await client.delete(f"{MFA}/totp", headers=two_factors)).status_code == 204
    assert (await client.get(MFA, headers=tenant.auth)).json() == {
        "methods": [],
        "totp": None,
        "passkeys": 0,
        "recovery_codes_remaining": 0,
        "required": False,
    }
    assert (await client.delete(f"{MFA}/totp", headers=tenant.auth)).status_code == 404
    assert (await client.post(f"{MFA}/totp", headers=tenant.auth)).status_code == 200


async def test_regenerated_recovery_codes_replace_the_old_ones(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    assert (await client.post(f"{MFA}/recovery-codes", headers=tenant.auth)).status_code == 409
    app = await enrol(client, tenant.owner.token, totp_clock)
    two_factors = await two_factor_auth(client, tenant.owner.email, app, totp_clock)
    fresh = (await client.post(f"{MFA}/recovery-codes", headers=two_factors)).json()["recovery_codes"]
    assert len(fresh) == 10
    assert not set(fresh) & set(app.recovery_codes)


async def test_confirming_without_a_started_enrolment_is_a_conflict(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(f"{MFA}/totp/confirm", json={"code": "123456"}, headers=tenant.auth)
    assert response.status_code == 409


async def test_enrolment_is_refused_to_api_keys_and_impersonators(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    member = await tenant.add_user()
    impersonated = await client.post(tenant.path(f"/users/{member.id}/impersonate"), headers=bearer(root_token))
    assert impersonated.status_code in (200, 201), impersonated.text
    token = impersonated.json()["access_token"]
    assert (await client.post(f"{MFA}/totp", headers=bearer(token))).status_code == 403


async def test_an_app_being_set_up_belongs_to_the_session_that_began_it(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """Another session of the account (whoever else knows the password) neither confirms the app the owner is
    setting up nor, by starting its own, gets the owner's confirmed: the owner's code then answers 409."""
    member = await tenant.add_user("two-sessions@example.com")
    other = bearer((await sign_in(client, member.email)).json()["access_token"])
    owners = (await client.post(f"{MFA}/totp", headers=member.auth)).json()["secret"]
    code = pyotp.TOTP(owners).at(totp_clock.now)
    refused = await client.post(f"{MFA}/totp/confirm", json={"code": code}, headers=other)
    assert refused.status_code == 409, refused.text
    theirs = (await client.post(f"{MFA}/totp", headers=other)).json()["secret"]
    assert theirs != owners
    replaced = await client.post(f"{MFA}/totp/confirm", json={"code": code}, headers=member.auth)
    assert replaced.status_code == 409, replaced.text  # start again: the app it scanned is no longer waiting
    again = (await client.post(f"{MFA}/totp", headers=member.auth)).json()["secret"]
    confirmed = await client.post(
        f"{MFA}/totp/confirm", json={"code": pyotp.TOTP(again).at(totp_clock.now)}, headers=member.auth
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_my_account_page_shows_no_other_browser_the_secret_it_is_setting_up(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """A browser that signed in with a phished password opens the set-up page first; the owner's page shows a
    secret of its own, and the one the owner confirms does not sign the other browser in."""
    member = await tenant.add_user("phished-setup@example.com")
    attacker = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await password_step(attacker, member.email)
    seen = _secret_on((await attacker.get("/ui/account/mfa")).text)
    await password_step(client, member.email)
    page = await client.get("/ui/account/mfa")
    owners = _secret_on(page.text)
    assert owners != seen
    fields = {"code": pyotp.TOTP(owners).at(totp_clock.now), "csrf_token": csrf_of(page.text)}
    assert (await client.post("/ui/account/mfa", data=fields)).status_code == 200
    totp_clock.advance(30)
    mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
    assert (await answer(client, mfa_token, pyotp.TOTP(seen).at(totp_clock.now))).status_code == 400


async def test_the_required_set_up_step_shows_each_sign_in_a_secret_of_its_own(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user("required-setup@example.com")
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    secrets = []
    for _ in range(2):
        browser = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
        assert (await password_step(browser, member.email)).headers["location"] == "/ui/mfa/enrol"
        secrets.append(_secret_on((await browser.get("/ui/mfa/enrol")).text))
    assert secrets[0] != secrets[1]


def _secret_on(page: str) -> str:
    found = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', page)
    assert found is not None, page
    return found.group(1)


async def test_answers_with_the_apps_secret_or_recovery_codes_are_never_cached(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    started = await client.post(f"{MFA}/totp", headers=tenant.auth)
    otp = pyotp.TOTP(started.json()["secret"])
    confirmed = await client.post(f"{MFA}/totp/confirm", json={"code": otp.at(totp_clock.now)}, headers=tenant.auth)
    totp_clock.advance(30)
    app = Authenticator(otp.secret, confirmed.json()["recovery_codes"], otp.at)
    headers = await two_factor_auth(client, tenant.owner.email, app, totp_clock)
    regenerated = await client.post(f"{MFA}/recovery-codes", headers=headers)
    for handed_out in (started, confirmed, regenerated):
        assert handed_out.status_code == 200, handed_out.text
        assert (handed_out.headers["cache-control"], handed_out.headers["pragma"]) == ("no-store", "no-cache")


async def test_a_set_up_started_elsewhere_while_the_owner_confirms_takes_turns_with_it(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session's start that read the app as not confirmed yet wrote its secret over the one the owner
    confirmed meanwhile (PostgreSQL runs them side by side): the owner's app then signed in no more, the other
    session's did. The account's lock makes them take turns: the owner's confirmation, after the start,
    answers 409 (start again) and no app of the other session's is confirmed."""
    member = await tenant.add_user("set-up-race@example.com")
    phished = bearer((await sign_in(client, member.email)).json()["access_token"])
    owners = (await client.post(f"{MFA}/totp", headers=member.auth)).json()["secret"]
    held = Held(monkeypatch, repository, "factor")
    other = asyncio.create_task(client.post(f"{MFA}/totp", headers=phished))
    await held.reached()
    confirm = asyncio.create_task(
        client.post(f"{MFA}/totp/confirm", json={"code": pyotp.TOTP(owners).at(totp_clock.now)}, headers=member.auth)
    )
    await asyncio.sleep(0.2)  # the confirmation goes as far as it can while the start is held
    held.release()
    started, confirmed = await asyncio.wait_for(asyncio.gather(other, confirm), 20)
    assert started.status_code == 200, started.text
    assert confirmed.status_code == 409, confirmed.text  # what it scanned is no longer waiting: start again
    assert (await client.get(MFA, headers=member.auth)).json()["methods"] == []
