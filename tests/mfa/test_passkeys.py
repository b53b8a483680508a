"""Passkeys over the hosted pages' endpoints, with a software authenticator (no browser): registration,
sign-in with a passkey alone, as a second factor, and everything that must be refused."""

import json
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from tenantry.core.audit.models import AuditEvent
from tenantry.core.credentials.lockout import account_key
from tenantry.core.credentials.models import LoginFailure
from tenantry.core.mfa import passkeys
from tenantry.core.mfa.models import WebAuthnChallenge, WebAuthnCredential
from tenantry.core.mfa.schemas import PasskeyOut
from tenantry.core.sessions.models import BrowserSession
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.auth.conftest import MakeInstance
from tests.factories import PASSWORD, Member, Tenant, bearer
from tests.mailbox import csrf_of, submit
from tests.mfa.authenticator import SoftAuthenticator
from tests.mfa.conftest import sign_in

ORIGIN = "http://testserver"
PASSKEYS = "/api/v1/me/mfa/passkeys"


async def _signed_in(client: httpx.AsyncClient, email: str) -> None:
    answer = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": email, "password": PASSWORD})
    assert answer.headers["location"] == "/ui/account", answer.text


async def _options(client: httpx.AsyncClient, page: str, url: str) -> tuple[dict[str, object], str]:
    opened = await client.get(page)
    csrf = csrf_of(opened.text)
    answer = await client.post(url, data={"csrf_token": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return answer.json(), csrf


async def register(client: httpx.AsyncClient, authenticator: SoftAuthenticator, name: str = "Laptop") -> str:
    """Add a passkey on my account (signed in already); answers the credential posted."""
    options, csrf = await _options(client, "/ui/account", "/ui/account/passkeys/options")
    credential = authenticator.create(options)
    added = await client.post("/ui/account/passkeys", data={"csrf_token": csrf, "credential": credential, "name": name})
    assert added.status_code == 303, added.text
    assert added.headers["location"] == "/ui/account?notice=passkey_added"
    return credential


async def passwordless(client: httpx.AsyncClient, authenticator: SoftAuthenticator, **get: object) -> httpx.Response:
    options, csrf = await _options(client, "/ui/forgot-password", "/ui/passkey/options")
    return await client.post("/ui/passkey", data={"csrf_token": csrf, "credential": authenticator.get(options, **get)})  # type: ignore[arg-type]


async def _actions(runtime: Runtime, user_id: str) -> list[tuple[str, object]]:
    async with runtime.database.transaction(write=False) as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == user_id).order_by(AuditEvent.created_at, AuditEvent.id)
        )
        return [(row.action, (row.details or {}).get("method")) for row in rows if row.action.startswith("mfa.")]


async def _listed(runtime: Runtime, user_id: str) -> list[PasskeyOut]:
    """The account's passkeys as ``GET /me/mfa/passkeys`` lists them (read here: the test's tokens are of the
    password alone, and end when the first passkey is made)."""
    async with runtime.database.transaction(write=False) as session:
        rows = await session.scalars(
            select(WebAuthnCredential)
            .where(WebAuthnCredential.user_id == user_id)
            .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)
        )
        return [passkeys.out(row) for row in rows]


async def _session_amr(runtime: Runtime, user_id: str) -> list[str] | None:
    async with runtime.database.transaction(write=False) as session:
        statement = select(BrowserSession.amr).where(BrowserSession.user_id == user_id)
        return (await session.scalars(statement.order_by(BrowserSession.created_at.desc()))).first()


async def test_register_on_my_account_then_sign_in_with_the_passkey_alone(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member = await tenant.add_user("passkey@example.com")
    await _signed_in(client, member.email)
    options, _ = await _options(client, "/ui/account", "/ui/account/passkeys/options")
    assert options["rp"] == {"id": "testserver", "name": "Tenantry"}
    assert options["authenticatorSelection"]["residentKey"] == "required"  # type: ignore[index]
    assert options["authenticatorSelection"]["userVerification"] == "required"  # type: ignore[index]
    authenticator = SoftAuthenticator(ORIGIN)
    await register(client, authenticator, "Work laptop")
    assert "Work laptop" in (await client.get("/ui/account")).text
    listed = await _listed(runtime, member.id)
    assert [(item.name, item.kind, item.last_used_at) for item in listed] == [("Work laptop", "hwk", None)]
    assert (await client.get("/api/v1/me/mfa", headers=member.auth)).status_code == 401  # a password's session

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        signed_in = await passwordless(browser, authenticator)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/ui/account"
        assert (await browser.get("/ui/account")).status_code == 200
    assert await _session_amr(runtime, member.id) == ["hwk", "mfa"]
    assert (await _listed(runtime, member.id))[0].last_used_at is not None
    assert await _actions(runtime, member.id) == [("mfa.enrolled", "passkey")]


async def test_a_password_sign_in_takes_the_passkey_as_second_factor(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member = await tenant.add_user("second@example.com")
    await _signed_in(client, member.email)
    authenticator = SoftAuthenticator(ORIGIN)
    await register(client, authenticator)
    refused = await sign_in(client, member.email)  # the API's password grant asks for the second factor
    assert (refused.json()["error"], refused.json()["mfa_methods"]) == ("mfa_required", ["passkey"])

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        first = await submit(browser, "/ui/sign-in", "/ui/sign-in", {"email": member.email, "password": PASSWORD})
        assert first.headers["location"] == "/ui/mfa"
        page = await browser.get("/ui/mfa")
        assert "Use a passkey" in page.text
        assert 'name="code"' not in page.text  # no app: no field for its code
        options, csrf = await _options(browser, "/ui/mfa", "/ui/mfa/passkey/options")
        assert [item["id"] for item in options["allowCredentials"]] == [  # type: ignore[attr-defined]
            json.loads(authenticator.get(options))["id"]
        ]
        options, csrf = await _options(browser, "/ui/mfa", "/ui/mfa/passkey/options")
        answered = await browser.post(
            "/ui/mfa/passkey", data={"csrf_token": csrf, "credential": authenticator.get(options)}
        )
        assert answered.status_code == 303, answered.text
        assert answered.headers["location"] == "/ui/account"
    assert await _session_amr(runtime, member.id) == ["pwd", "hwk", "mfa"]


async def test_challenges_are_single_use_short_lived_and_bound(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member = await tenant.add_user("bound@example.com")
    await _signed_in(client, member.email)
    authenticator = SoftAuthenticator(ORIGIN)
    credential = await register(client, authenticator)
    assert (await passwordless(client, authenticator)).status_code == 303  # two factors: may add passkeys
    _, csrf = await _options(client, "/ui/account", "/ui/account/passkeys/options")
    replayed = await client.post("/ui/account/passkeys", data={"csrf_token": csrf, "credential": credential})
    assert replayed.status_code == 400  # its challenge is spent
    async with runtime.database.transaction(write=False) as session:
        hashes = list(await session.scalars(select(WebAuthnChallenge.challenge_hash)))
    assert all(len(value) == 64 for value in hashes)  # kept as SHA-256 only

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        options, csrf = await _options(browser, "/ui/sign-in", "/ui/passkey/options")
        assertion = authenticator.get(options)
        assert (
            await browser.post("/ui/passkey", data={"csrf_token": csrf, "credential": assertion})
        ).status_code == 303
        again = await browser.post("/ui/passkey", data={"csrf_token": csrf, "credential": assertion})
        assert again.status_code == 400
        assert "could not sign you in" in again.text

        options, csrf = await _options(browser, "/ui/forgot-password", "/ui/passkey/options")
        async with runtime.database.transaction() as session:
            await session.execute(update(WebAuthnChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        late = await browser.post("/ui/passkey", data={"csrf_token": csrf, "credential": authenticator.get(options)})
        assert late.status_code == 400

        # A sign-in's challenge does not register a passkey, and a registration's does not sign in.
        options, csrf = await _options(browser, "/ui/forgot-password", "/ui/passkey/options")
        swapped = await client.post(
            "/ui/account/passkeys",
            data={
                "csrf_token": csrf_of((await client.get("/ui/account")).text),
                "credential": authenticator.get(options),
            },
        )
        assert swapped.status_code == 400


async def test_wrong_origin_and_a_counter_going_back_are_refused_and_count_towards_lockout(
    instance: MakeInstance, tenant: Tenant
) -> None:
    app = await instance(login_max_failures=2)
    client = await app.client()
    member = await tenant.add_user("clone@example.com")
    await _signed_in(client, member.email)
    authenticator = SoftAuthenticator(ORIGIN)
    await register(client, authenticator)
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        assert (await passwordless(browser, authenticator)).status_code == 303  # the counter on record: 1
        assert (await passwordless(browser, authenticator, origin="https://evil.example")).status_code == 400
        authenticator.passkeys[0].sign_count = 0  # a clone: its counter (1 again) is not past the one on record
        cloned = await passwordless(browser, authenticator)
        assert cloned.status_code == 400
        async with app.runtime.database.transaction(write=False) as session:
            row = await session.get(LoginFailure, account_key(member.email))
        assert row is not None
        assert (row.failures, row.locked_until is not None) == (2, True)
        authenticator.passkeys[0].sign_count = 100
        locked = await passwordless(browser, authenticator)
        assert locked.status_code == 400  # the right passkey, but the account is locked
    assert [action for action, _ in await _actions(app.runtime, member.id)].count("mfa.failed") == 3


async def test_remove_a_passkey_with_a_second_factor_and_an_admin_reset_removes_them_all(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member: Member = await tenant.add_user("remove@example.com")
    await _signed_in(client, member.email)
    authenticator = SoftAuthenticator(ORIGIN)
    await register(client, authenticator, "One")  # the first factor: the password's session may add it
    assert (await passwordless(client, authenticator)).status_code == 303  # the second, once signed in with it
    await register(client, authenticator, "Two")
    listed = [(item.id, item.name) for item in await _listed(runtime, member.id)]
    assert [name for _, name in listed] == ["One", "Two"]
    refused = await client.delete(f"{PASSKEYS}/{listed[0][0]}", headers=member.auth)
    assert refused.status_code == 401  # the password's token session ended when the first passkey was made
    assert (await client.delete(f"{PASSKEYS}/{listed[1][0]}", headers=tenant.auth)).status_code == 404  # not theirs
    removed = await submit(client, "/ui/account", f"/ui/account/passkeys/{listed[0][0]}/remove", {})
    assert removed.headers["location"] == "/ui/account?notice=passkey_removed"
    gone = await submit(client, "/ui/account", f"/ui/account/passkeys/{listed[0][0]}/remove", {})
    assert gone.headers["location"] == "/ui/account"
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        removed_one = await passwordless(browser, authenticator, passkey=authenticator.passkeys[0])
        assert removed_one.status_code == 400
    reset = await client.delete(tenant.path(f"/users/{member.id}/mfa"), headers=tenant.auth)
    assert reset.status_code == 204
    assert await _listed(runtime, member.id) == []
    assert await _actions(runtime, member.id) == [
        ("mfa.enrolled", "passkey"),
        ("mfa.enrolled", "passkey"),
        ("mfa.removed", "passkey"),
        ("mfa.reset", None),
    ]
    assert (await client.get(PASSKEYS, headers=bearer("not-a-token"))).status_code == 401


async def test_what_passkeys_js_tells_the_user_is_in_the_pages_language(client: httpx.AsyncClient) -> None:
    """The script's words come from the form, written in the page's language; the server's refusals it shows
    are in that language too."""
    page = await client.get("/ui/sign-in", headers={"Accept-Language": "de"})
    assert 'data-say-wait="Folgen Sie den Anweisungen Ihres Geräts …"' in page.text
    assert 'data-say-cancelled="Der Passkey wurde nicht verwendet' in page.text
    assert 'data-say-failed="Der Passkey hat nicht funktioniert:"' in page.text
    script = await client.get("/ui/static/passkeys.js")
    assert "Follow your device" not in script.text
    assert "did not work" not in script.text
    signed_out = await client.post("/ui/account/passkeys/options", headers={"Accept-Language": "fr"})
    assert signed_out.status_code == 401
    assert signed_out.json() == {"detail": "Vous n\u2019êtes pas connecté. Rechargez la page."}
    forged = await client.post("/ui/passkey/options", data={"csrf_token": "x"}, headers={"Accept-Language": "de"})
    assert forged.status_code == 403
    assert forged.json()["detail"].startswith("Dieses Formular konnte nicht angenommen werden.")


async def test_the_session_that_makes_the_first_passkey_goes_on_with_both_factors(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """Made with user verification, the passkey proves a second factor: the browser is not sent to sign in again
    (a session without the factor its account now has is none: ``ui.session.signed_in``)."""
    member = await tenant.add_user("first-passkey@example.com")
    await _signed_in(client, member.email)
    before = client.cookies.get("tenantry_session")
    await register(client, SoftAuthenticator(ORIGIN))
    assert (await client.get("/ui/account")).status_code == 200
    assert client.cookies.get("tenantry_session") != before  # a new session, in place of the password's
    assert await _session_amr(runtime, member.id) in (["pwd", "hwk", "mfa"], ["pwd", "swk", "mfa"])


async def test_a_user_handle_that_is_not_base64url_is_a_wrong_assertion_that_counts(
    instance: MakeInstance, tenant: Tenant
) -> None:
    """A malformed ``userHandle`` for a known passkey is refused as any wrong assertion is: its challenge stays
    spent and the failure counts towards the account's lockout (it was a 500 that rolled both back)."""
    app = await instance()
    client = await app.client()
    member = await tenant.add_user("handle@example.com")
    await _signed_in(client, member.email)
    authenticator = SoftAuthenticator(ORIGIN)
    await register(client, authenticator)

    def mangled(options: dict[str, object]) -> str:
        credential = json.loads(authenticator.get(options))
        credential["response"]["userHandle"] = "a"  # one base64url character: no bytes decode from it
        return json.dumps(credential)

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        options, csrf = await _options(browser, "/ui/forgot-password", "/ui/passkey/options")
        alone = await browser.post("/ui/passkey", data={"csrf_token": csrf, "credential": mangled(options)})
        assert alone.status_code == 400, alone.text
        assert "could not sign you in" in alone.text
        first = await submit(browser, "/ui/sign-in", "/ui/sign-in", {"email": member.email, "password": PASSWORD})
        assert first.headers["location"] == "/ui/mfa"
        options, csrf = await _options(browser, "/ui/mfa", "/ui/mfa/passkey/options")
        second = await browser.post("/ui/mfa/passkey", data={"csrf_token": csrf, "credential": mangled(options)})
        assert second.status_code == 400, second.text
    async with app.runtime.database.transaction(write=False) as session:
        failures = await session.get(LoginFailure, account_key(member.email))
        open_challenges = await session.scalars(
            select(WebAuthnChallenge.id).where(
                WebAuthnChallenge.purpose != "register", WebAuthnChallenge.spent_at.is_(None)
            )
        )
        assert failures is not None
        assert failures.failures == 2
        assert list(open_challenges) == []
    assert [action for action, _ in await _actions(app.runtime, member.id)].count("mfa.failed") == 2
