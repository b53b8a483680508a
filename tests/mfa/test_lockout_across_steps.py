"""The lockout spans both steps of a sign-in: a right password forgets no wrong second factor (only a finished
sign-in does), wrong second factors count towards the client IP's failures, the hosted second step is rate
limited like the sign-in page, and answers sent in parallel are decided one at a time."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tenantry.core.audit.models import AuditEvent
from tenantry.core.credentials.lockout import account_key
from tenantry.core.credentials.models import LoginFailure
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.mfa import service as mfa_service
from tenantry.core.mfa.models import MfaChallenge
from tenantry.core.tokens.service import digest
from tests.auth.conftest import Instance, MakeInstance
from tests.factories import PASSWORD, Tenant
from tests.mailbox import csrf_of, submit
from tests.mfa.conftest import Authenticator, TotpClock, answer, enrol, sign_in


async def _failures(app: Instance, email: str) -> LoginFailure | None:
    async with app.runtime.database.transaction(write=False) as session:
        return await session.get(LoginFailure, account_key(email))


_FEW_IP_FAILURES = {"login_ip_max_failures": 3, "login_max_failures": 1000}


async def _counted(app: Instance, email: str) -> tuple[int, bool]:
    """The failures on record for ``email``, and whether it is locked."""
    row = await _failures(app, email)
    return (0, False) if row is None else (row.failures, row.locked_until is not None)


async def _enrolled(
    instance: MakeInstance, tenant: Tenant, clock: TotpClock, address: str = "127.0.0.1", **settings: object
) -> tuple[Instance, httpx.AsyncClient, Authenticator]:
    """An instance with ``settings`` whose owner has enrolled an authenticator app, and a client from ``address``."""
    app = await instance(**settings)
    client = await app.client(address)
    return app, client, await enrol(client, tenant.owner.token, clock)


async def _mfa_token(client: httpx.AsyncClient, email: str) -> str:
    response = await sign_in(client, email)
    assert response.json()["error"] == "mfa_required", response.text
    return str(response.json()["mfa_token"])


async def _hosted_sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": email, "password": PASSWORD})


async def _refused_on_the_page(client: httpx.AsyncClient, email: str) -> None:
    """The hosted sign-in refuses the right password as it would a wrong one (no second step to guess at)."""
    refused = await _hosted_sign_in(client, email)
    assert refused.status_code == 400
    assert "Invalid email address or password" in refused.text


async def _wrong_code_on_the_page(client: httpx.AsyncClient, email: str) -> None:
    """The hosted sign-in with the right password, then a wrong code on the second step's page."""
    first = await _hosted_sign_in(client, email)
    assert first.headers["location"] == "/ui/mfa", first.text
    wrong = await submit(client, "/ui/mfa", "/ui/mfa", {"code": "000000", "method": "otp"})
    assert wrong.status_code == 400, wrong.text


async def test_a_right_password_forgets_no_wrong_code_at_the_token_endpoint(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app, client, _ = await _enrolled(instance, tenant, totp_clock, login_max_failures=3)
    wrong_password = await sign_in(client, "nobody@example.com", "wrong password")
    for _ in range(2):  # the password again before each guess: its sign-in still waits for the second factor
        assert (await answer(client, await _mfa_token(client, tenant.owner.email), "000000")).status_code == 400
    assert (await _failures(app, tenant.owner.email)) is not None
    assert (await answer(client, await _mfa_token(client, tenant.owner.email), "000000")).status_code == 400
    assert await _counted(app, tenant.owner.email) == (3, True)
    locked = await sign_in(client, tenant.owner.email)  # no new challenge to guess with
    assert locked.status_code == 400
    assert locked.content == wrong_password.content


async def test_a_right_password_forgets_no_wrong_code_on_the_hosted_pages(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app, client, _ = await _enrolled(instance, tenant, totp_clock, login_max_failures=3)
    for _ in range(3):
        await _wrong_code_on_the_page(client, tenant.owner.email)
    assert await _counted(app, tenant.owner.email) == (3, True)
    await _refused_on_the_page(client, tenant.owner.email)


async def test_the_right_second_factor_finishes_the_sign_in_and_forgets_the_failures(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app, client, authenticator = await _enrolled(instance, tenant, totp_clock, login_max_failures=3)
    assert (await sign_in(client, tenant.owner.email, "wrong password")).status_code == 400
    assert (await answer(client, await _mfa_token(client, tenant.owner.email), "000000")).status_code == 400
    token = await _mfa_token(client, tenant.owner.email)
    assert (await _failures(app, tenant.owner.email)) is not None  # the password alone forgot nothing
    assert (await answer(client, token, authenticator.code_at(totp_clock.now))).status_code == 200
    assert (await _failures(app, tenant.owner.email)) is None


async def test_a_password_alone_that_finishes_the_sign_in_forgets_the_failures(
    instance: MakeInstance, tenant: Tenant
) -> None:
    app = await instance(login_max_failures=3)
    client = await app.client()
    assert (await sign_in(client, tenant.owner.email, "wrong password")).status_code == 400
    assert (await sign_in(client, tenant.owner.email)).status_code == 200
    assert (await _failures(app, tenant.owner.email)) is None


async def test_wrong_codes_count_towards_the_client_ips_failures(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app, guesser, _ = await _enrolled(instance, tenant, totp_clock, "203.0.113.7", **_FEW_IP_FAILURES)
    elsewhere = await app.client("198.51.100.1")
    token = await _mfa_token(guesser, tenant.owner.email)
    for _ in range(3):
        assert (await answer(guesser, token, "000000")).status_code == 400
    refused = await sign_in(guesser, tenant.owner.email)
    assert refused.json()["error"] == "invalid_grant"  # the client is over its failures: like a wrong password
    assert (await sign_in(elsewhere, tenant.owner.email)).json()["error"] == "mfa_required"


async def test_wrong_codes_on_the_hosted_page_count_towards_the_client_ips_failures(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    _, guesser, _ = await _enrolled(instance, tenant, totp_clock, "203.0.113.7", **_FEW_IP_FAILURES)
    for _ in range(3):
        await _wrong_code_on_the_page(guesser, tenant.owner.email)
    await _refused_on_the_page(guesser, tenant.owner.email)


async def test_the_hosted_second_step_is_rate_limited_like_the_sign_in_page(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    _, client, _ = await _enrolled(instance, tenant, totp_clock, auth_rate_limit="3/minute")
    signed = await _hosted_sign_in(client, tenant.owner.email)
    assert signed.headers["location"] == "/ui/mfa"  # the page's first request of the minute
    csrf = csrf_of((await client.get("/ui/mfa")).text)
    answers = [await client.post("/ui/mfa", data={"code": "000000", "method": "otp", "csrf_token": csrf})]
    answers.append(await client.post("/ui/mfa/passkey", data={"credential": "{}", "csrf_token": csrf}))
    answers.append(await client.post("/ui/mfa", data={"code": "000000", "method": "otp", "csrf_token": csrf}))
    assert [response.status_code for response in answers] == [400, 400, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    passkey = await client.post("/ui/mfa/passkey", data={"credential": "{}", "csrf_token": csrf})
    assert passkey.status_code == 429


async def test_a_burst_of_wrong_codes_meets_the_challenges_limit_as_codes_in_turn_would(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app, client, _ = await _enrolled(instance, tenant, totp_clock, login_max_failures=1000)
    token = await _mfa_token(client, tenant.owner.email)
    answers = await asyncio.gather(*(answer(client, token, f"{n:06d}") for n in range(1, 20)))
    assert {response.status_code for response in answers} == {400}
    async with app.runtime.database.transaction(write=False) as session:
        challenge = (await session.scalars(select(MfaChallenge).where(MfaChallenge.token_hash == digest(token)))).one()
    assert challenge.failures == 5  # the rest found the challenge spent: never checked, never counted
    assert await _counted(app, tenant.owner.email) == (5, False)


async def test_a_burst_of_wrong_codes_across_challenges_stops_at_the_lockout(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app, client, _ = await _enrolled(instance, tenant, totp_clock, login_max_failures=3)
    tokens = [await _mfa_token(client, tenant.owner.email) for _ in range(3)]
    guesses = [answer(client, token, f"{n:06d}") for token in tokens for n in range(1, 5)]
    assert {response.status_code for response in await asyncio.gather(*guesses)} == {400}
    assert await _counted(app, tenant.owner.email) == (3, True)


async def test_a_client_over_its_failures_has_no_second_factor_checked(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """Second factors answer to the client's failures as passwords do: once over, a right code is refused
    unchecked (a client holding passwords opens challenges first, then guesses codes across them), and the
    refusal is in the account's audit log like any failed second step."""
    app = await instance(login_ip_max_failures=3, login_max_failures=1000)
    client = await app.client("203.0.113.7")
    authenticator = await enrol(client, tenant.owner.token, totp_clock)
    tokens = [(await sign_in(client, tenant.owner.email)).json()["mfa_token"] for _ in range(2)]
    for n in range(3):
        assert (await answer(client, tokens[0], f"{n:06d}")).status_code == 400
    failed = await _failed_second_steps(app, tenant)
    late = await answer(client, tokens[1], authenticator.code_at(totp_clock.now))
    assert (late.status_code, late.json()["error"]) == (400, "invalid_grant"), late.text
    assert await _failed_second_steps(app, tenant) == failed + 1


async def _failed_second_steps(app: Instance, tenant: Tenant) -> int:
    async with app.runtime.database.transaction(write=False) as session:
        found = select(AuditEvent.id).where(AuditEvent.target_id == tenant.owner.id, AuditEvent.action == "mfa.failed")
        return len((await session.scalars(found)).all())


async def test_an_answer_and_a_new_password_of_one_account_wait_for_each_other_without_a_deadlock(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering takes the login name's lock, then the challenge's row; a new password takes the name's lock,
    then deletes the account's challenges: in one order, so on PostgreSQL neither ends in a deadlock (SQLite's
    writers take turns)."""
    app = await instance()
    client = await app.client()
    await enrol(client, tenant.owner.token, totp_clock)
    mfa_token = (await sign_in(client, tenant.owner.email)).json()["mfa_token"]
    hash_now = Passwords.hash

    async def slow_hash(self: Passwords, password: str) -> str:  # the new password's hash, under the name's lock
        await asyncio.sleep(0.5)
        return await hash_now(self, password)

    monkeypatch.setattr(Passwords, "hash", slow_hash)
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase for this account 42"}

    async def answer_meanwhile() -> httpx.Response:
        await asyncio.sleep(0.2)
        return await answer(client, mfa_token, "000000")

    changed, answered = await asyncio.gather(
        client.post("/api/v1/me/password", json=body, headers=tenant.owner.auth), answer_meanwhile()
    )
    assert changed.status_code == 204, changed.text
    assert answered.status_code == 400, answered.text  # the challenge ended with the old password


ADMINISTRATORS_CHANGES = {
    "a reset of its factors": ("DELETE", "/mfa", None, 204),
    "a new address": ("PATCH", "", {"email": "moved@example.com"}, 200),
}


@pytest.mark.parametrize("change", ADMINISTRATORS_CHANGES)
async def test_an_answer_and_an_administrators_change_of_one_account_wait_for_each_other_without_a_deadlock(
    instance: MakeInstance, tenant: Tenant, totp_clock: TotpClock, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """An administrator's reset deletes the account's factors and challenges; a new address writes the account,
    then ends its challenges. An answer locks its challenge, then uses the factor and writes the account. All
    take the login name's lock first (the address the answer signed in with), so on PostgreSQL one waits for
    the other instead of each holding a row the other needs."""
    app = await instance()
    client = await app.client()
    member = await tenant.add_user("member@example.com")
    authenticator = await enrol(client, member.token, totp_clock)
    mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
    check_now = mfa_service.check

    async def slow_check(*arguments: Any) -> bool:  # the challenge is locked, the factor not used yet
        await asyncio.sleep(0.5)
        return await check_now(*arguments)

    monkeypatch.setattr(mfa_service, "check", slow_check)
    method, path, body, status = ADMINISTRATORS_CHANGES[change]

    async def change_meanwhile() -> httpx.Response:
        await asyncio.sleep(0.2)
        return await client.request(method, tenant.path(f"/users/{member.id}{path}"), json=body, headers=tenant.auth)

    answered, changed = await asyncio.gather(
        answer(client, mfa_token, authenticator.code_at(totp_clock.now)), change_meanwhile()
    )
    assert answered.status_code == 200, answered.text
    assert changed.status_code == status, changed.text
