"""Every check of a current password counts towards the lockout, after the permission check (issue 14,
finding 2): telm's change-password, the native ``/me/password`` and the hosted "My account" page."""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx
import pytest

from tenantry.core.credentials.lockout import account_key
from tenantry.core.credentials.models import LoginFailure
from tenantry.runtime import Runtime
from tests.auth.conftest import MakeInstance
from tests.factories import PASSWORD, Member, Tenant, accept_invitation, bearer, token_for
from tests.mailbox import csrf_of, submit
from tests.snapshots import every_row

NEW = "a brand new passphrase"
WRONG = "not the password at all"
Attempt = Callable[[str], Awaitable[httpx.Response]]


def _telm_change(tenant: Tenant, email: str, old: str) -> tuple[str, dict[str, str]]:
    path = f"/compat/telm/api/auth/auth/{tenant.slug}/user/{quote(email)}/password"
    return path, {"old-password": old, "new-password": NEW}


async def _telm(client: httpx.AsyncClient, tenant: Tenant, caller: str, email: str, old: str) -> httpx.Response:
    path, query = _telm_change(tenant, email, old)
    return await client.put(path, params=query, headers={"Authentication": f"Bearer {caller}"})


async def _failures(runtime: Runtime, email: str) -> int:
    async with runtime.database.transaction(write=False) as session:
        row = await session.get(LoginFailure, account_key(email))
    return 0 if row is None else row.failures


async def test_a_wrong_current_password_counts_as_a_failed_sign_in_on_every_surface(
    instance: MakeInstance, tenant: Tenant
) -> None:
    app = await instance(login_max_failures=3)
    client = await app.client()
    member = await tenant.add_user("counted@example.com")
    signed_in = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": member.email, "password": PASSWORD})
    assert signed_in.headers["location"] == "/ui/account"

    native = await client.post(
        "/api/v1/me/password", json={"current_password": WRONG, "new_password": NEW}, headers=member.auth
    )
    assert native.status_code == 422
    assert await _failures(app.runtime, member.email) == 1
    token = csrf_of((await client.get("/ui/account")).text)
    fields = {"current_password": WRONG, "new_password": NEW, "new_password_repeat": NEW, "csrf_token": token}
    hosted = await client.post("/ui/account/password", data=fields)
    assert hosted.status_code == 400
    assert await _failures(app.runtime, member.email) == 2
    telm = await _telm(client, tenant, member.token, member.email, WRONG)
    assert telm.status_code == 422
    assert await _failures(app.runtime, member.email) == 3

    # The name is now locked: sign-in and even the right current password are refused, and nothing changes.
    refused = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": member.email, "password": PASSWORD}
    )
    assert refused.json()["error"] == "invalid_grant"
    right = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=member.auth
    )
    assert right.json()["errors"] == [
        {"field": "current_password", "message": "is incorrect", "code": "incorrect_current_password"}
    ]
    assert (await _telm(client, tenant, member.token, member.email, PASSWORD)).status_code == 422
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 200  # the password never changed


async def test_a_right_current_password_forgets_no_failures_only_a_finished_sign_in_does(
    instance: MakeInstance, tenant: Tenant
) -> None:
    """A change is no sign-in: it would otherwise let a holder of the password wipe the count of wrong second
    factors someone is guessing."""
    app = await instance(login_max_failures=3)
    client = await app.client()
    member = await tenant.add_user("kept@example.com")
    for current in (WRONG, PASSWORD):
        await client.post(
            "/api/v1/me/password", json={"current_password": current, "new_password": NEW}, headers=member.auth
        )
    assert await _failures(app.runtime, member.email) == 1
    signed_in = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": member.email, "password": NEW}
    )
    assert signed_in.status_code == 200
    assert await _failures(app.runtime, member.email) == 0


async def _same_refusal(runtime: Runtime, attempt: Attempt) -> httpx.Response:
    """Try a right and a wrong guess: the answers must be identical, and no row may change (no failure counted)."""
    before = await every_row(runtime)
    right, wrong = await attempt(PASSWORD), await attempt(WRONG)
    assert right.status_code in (401, 403, 404)
    assert (right.status_code, right.content) == (wrong.status_code, wrong.content)
    assert await every_row(runtime) == before
    return right


def _telm_attempt(client: httpx.AsyncClient, tenant: Tenant, caller: str, victim: Member) -> Attempt:
    return lambda old: _telm(client, tenant, caller, victim.email, old)


async def test_telm_answers_alike_for_right_and_wrong_guesses_when_the_caller_may_not_act(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    victim = await tenant.add_user("victim@example.com", roles=["viewer"])
    supervisor = await tenant.add_user("supervisor@example.com", roles=["supervisor"])
    assert (await _same_refusal(runtime, _telm_attempt(client, tenant, supervisor.token, victim))).status_code == 403
    admin = await tenant.add_user("admin@example.com", roles=["admin"])
    owner = Member(tenant.owner.id, tenant.owner.email, tenant.owner.token)
    assert (await _same_refusal(runtime, _telm_attempt(client, tenant, admin.token, owner))).status_code == 403
    # An account another organization shares is only the user's own to change.
    attached = await client.post(other_tenant.path("/members"), json={"email": victim.email}, headers=other_tenant.auth)
    assert attached.status_code in (200, 201)
    await accept_invitation(runtime, victim.id, other_tenant.slug)
    await _same_refusal(runtime, _telm_attempt(client, other_tenant, other_tenant.owner.token, victim))


@pytest.mark.parametrize("surface", ["native", "telm"])
async def test_an_impersonator_gets_the_same_answer_for_right_and_wrong_guesses(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, surface: str
) -> None:
    victim = await tenant.add_user("impersonated@example.com", roles=["viewer"])
    minted = await client.post(tenant.path(f"/users/{victim.id}/impersonate"), headers=tenant.auth)
    token = minted.json()["access_token"]

    async def attempt(old: str) -> httpx.Response:
        if surface == "telm":
            return await _telm(client, tenant, token, victim.email, old)
        body = {"current_password": old, "new_password": NEW}
        return await client.post("/api/v1/me/password", json=body, headers=bearer(token))

    assert (await _same_refusal(runtime, attempt)).status_code == 403
    assert await token_for(client, victim.email)  # the password is unchanged
