"""Signing in at the token endpoint with a second factor: mfa_required, then the mfa-otp or recovery-code grant."""

from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select

from tenantry.core.credentials.lockout import account_key
from tenantry.core.credentials.models import LoginFailure
from tenantry.core.mfa.models import MfaChallenge
from tenantry.core.tokens.service import digest
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.auth.conftest import MakeInstance
from tests.factories import Tenant, bearer
from tests.mailbox import Mailbox
from tests.mfa.conftest import TOKEN, TotpClock, answer, enrol, recover, sign_in


def claims(token: str) -> dict[str, object]:
    decoded: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def challenge(client: httpx.AsyncClient, email: str) -> str:
    response = await sign_in(client, email)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "mfa_required"
    return str(response.json()["mfa_token"])


async def test_password_alone_answers_mfa_required_with_the_methods(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    await enrol(client, tenant.owner.token, totp_clock)
    response = await sign_in(client, tenant.owner.email)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "mfa_required"
    assert body["mfa_methods"] == ["otp", "recovery_code"]
    assert body["mfa_token_expires_in"] == 300
    assert "access_token" not in body
    assert response.headers["cache-control"] == "no-store"


async def test_the_current_code_finishes_the_sign_in_with_amr_and_acr(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    token = await challenge(client, tenant.owner.email)
    response = await answer(client, token, app.code_at(totp_clock.now))
    assert response.status_code == 200, response.text
    access = response.json()["access_token"]
    assert claims(access)["amr"] == ["pwd", "otp", "mfa"]
    assert claims(access)["acr"] == "urn:tenantry:acr:2fa"
    assert (await client.get("/api/v1/me", headers=bearer(access))).status_code == 200
    refreshed = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]}
    )
    assert claims(refreshed.json()["access_token"])["amr"] == ["pwd", "otp", "mfa"]


async def test_a_required_password_change_waits_for_the_second_factor_too(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    app = await enrol(client, member.token, totp_clock)
    changed = {"password": "a password set by the admin", "require_change": True}
    assert (
        await client.post(tenant.path(f"/users/{member.id}/password"), json=changed, headers=tenant.auth)
    ).is_success
    ticket = (await sign_in(client, member.email, changed["password"])).json()["change_ticket"]
    body = {"change_ticket": ticket, "new_password": "a password of my own choosing"}
    response = await client.post("/api/v1/auth/password-change", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "mfa_required"
    assert "access_token" not in response.json()
    finished = await answer(client, response.json()["mfa_token"], app.code_at(totp_clock.now))
    assert finished.status_code == 200, finished.text
    assert claims(finished.json()["access_token"])["amr"] == ["pwd", "otp", "mfa"]


async def test_a_password_only_token_says_one_factor(client: httpx.AsyncClient, tenant: Tenant) -> None:
    access = (await sign_in(client, tenant.owner.email)).json()["access_token"]
    assert claims(access)["amr"] == ["pwd"]
    assert claims(access)["acr"] == "urn:tenantry:acr:1fa"


@pytest.mark.parametrize(("offset", "accepted"), [(-31, False), (-30, True), (0, True), (30, True), (60, False)])
async def test_codes_of_the_neighbouring_steps_are_accepted_and_no_further(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock, offset: int, accepted: bool
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    totp_clock.advance(120)  # well past the confirming code's step
    token = await challenge(client, tenant.owner.email)
    response = await answer(client, token, app.code_at(totp_clock.now + offset))
    assert (response.status_code == 200) is accepted, response.text


async def test_a_used_code_is_not_accepted_twice(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    code = app.code_at(totp_clock.now)
    assert (await answer(client, await challenge(client, tenant.owner.email), code)).status_code == 200
    replayed = await answer(client, await challenge(client, tenant.owner.email), code)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    older = app.code_at(totp_clock.now - 30)  # a code of an earlier step than the one used
    assert (await answer(client, await challenge(client, tenant.owner.email), older)).status_code == 400
    totp_clock.advance(30)
    later = app.code_at(totp_clock.now)
    assert (await answer(client, await challenge(client, tenant.owner.email), later)).status_code == 200


async def test_five_wrong_codes_spend_the_challenge(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    token = await challenge(client, tenant.owner.email)
    for _ in range(5):
        assert (await answer(client, token, "000000")).json()["error"] == "invalid_grant"
    spent = await answer(client, token, app.code_at(totp_clock.now))
    assert spent.status_code == 400
    assert "sign in again" in spent.json()["error_description"]


async def test_four_wrong_codes_leave_the_challenge_usable(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    token = await challenge(client, tenant.owner.email)
    for _ in range(4):
        await answer(client, token, "000000")
    assert (await answer(client, token, app.code_at(totp_clock.now))).status_code == 200
    assert (await answer(client, token, app.code_at(totp_clock.now + 30))).status_code == 400  # spent by success


async def test_an_expired_challenge_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    monkeypatch.setattr("tenantry.core.mfa.challenges.TTL_SECONDS", -1)
    token = await challenge(client, tenant.owner.email)
    assert (await answer(client, token, app.code_at(totp_clock.now))).status_code == 400


async def test_each_recovery_code_works_once_and_its_use_is_mailed(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock, mailbox: Mailbox
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    await mailbox.deliver()
    code = app.recovery_codes[0]
    used = await recover(client, await challenge(client, tenant.owner.email), code.upper().replace("-", " "))
    assert used.status_code == 200, used.text
    assert claims(used.json()["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    assert "recovery code" in (await mailbox.one_for(tenant.owner.email)).subject
    again = await recover(client, await challenge(client, tenant.owner.email), code)
    assert again.status_code == 400
    status = (await client.get("/api/v1/me/mfa", headers=bearer(used.json()["access_token"]))).json()
    assert status["recovery_codes_remaining"] == 9


async def test_wrong_codes_count_towards_the_account_lockout(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await instance(login_max_failures=3)
    client = await app.client()
    await enrol(client, tenant.owner.token, totp_clock)
    token = await challenge(client, tenant.owner.email)
    for _ in range(3):
        await answer(client, token, "000000")
    async with app.runtime.database.transaction(write=False) as session:
        row = await session.get(LoginFailure, account_key(tenant.owner.email))
    assert row is not None
    assert row.failures == 3
    assert row.locked_until is not None
    fresh = await sign_in(client, tenant.owner.email)
    assert fresh.json()["error"] == "invalid_grant"  # locked: even the right password is refused


async def test_a_locked_account_cannot_finish_with_the_right_code(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await instance(login_max_failures=2)
    client = await app.client()
    authenticator = await enrol(client, tenant.owner.token, totp_clock)
    token = await challenge(client, tenant.owner.email)
    other = await challenge(client, tenant.owner.email)
    for _ in range(2):
        await answer(client, token, "000000")
    assert (await answer(client, other, authenticator.code_at(totp_clock.now))).status_code == 400


async def test_mfa_grants_need_their_parameters(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "urn:tenantry:params:oauth:grant-type:mfa-otp"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "mfa_token" in response.json()["error_description"]
    unknown = await answer(client, "not-a-token", "123456")
    assert unknown.json()["error"] == "invalid_grant"


async def test_a_challenge_dies_with_the_sessions_it_came_from(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    token = await challenge(client, tenant.owner.email)
    changed = await client.post(
        tenant.path(f"/users/{tenant.owner.id}/password"),
        json={"password": "another long passphrase 42"},
        headers=tenant.auth,
    )
    assert changed.status_code == 204, changed.text
    assert (await answer(client, token, app.code_at(totp_clock.now))).status_code == 400


async def test_the_worker_forgets_challenges_a_day_past_their_expiry(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, totp_clock: TotpClock
) -> None:
    await enrol(client, tenant.owner.token, totp_clock)
    await challenge(client, tenant.owner.email)
    fresh = await challenge(client, tenant.owner.email)
    async with runtime.database.transaction() as session:
        other = (await session.scalars(select(MfaChallenge).where(MfaChallenge.token_hash != digest(fresh)))).one()
        other.expires_at = utcnow() - timedelta(days=2)
    await OutboxWorker(runtime).purge()
    async with runtime.database.transaction(write=False) as session:
        assert len((await session.scalars(select(MfaChallenge))).all()) == 1
    assert (await answer(client, fresh, "000000")).json()["error_description"] == "the code is wrong or already used"
