"""A second factor made by a session that proved the password alone is not trusted past a proof of the mailbox: a
password reset through the mailed link removes it. Whoever knew the password (phished) could have made it, and
the owner, securing the account by a reset, would otherwise meet a factor they cannot answer while it signs the
other person in."""

import httpx
from sqlalchemy import select, update

from tenantry.core.mfa.models import MfaFactor, RecoveryCode, WebAuthnCredential
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, bearer, login
from tests.flows.test_resets import RESET, _reset_with
from tests.mailbox import Mailbox, submit
from tests.mfa.authenticator import SoftAuthenticator
from tests.mfa.conftest import TotpClock, enrol, sign_in
from tests.mfa.test_passkeys import ORIGIN, _actions, _signed_in, passwordless, register

NEW_PASSWORD = "the owner's brand new passphrase"


async def _owner_resets(client: httpx.AsyncClient, member: Member, mailbox: Mailbox) -> None:
    """The owner asks for a reset by address and follows the mailed link."""
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await owner.post(RESET, json={"email": member.email})).status_code == 202
        done = await _reset_with(owner, (await mailbox.one_for(member.email)).link, NEW_PASSWORD)
        assert done.status_code == 200, done.text


async def _account_with_passkeys(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, email: str, *names: str
) -> tuple[Member, SoftAuthenticator]:
    """An account whose password signs a browser in, which then makes passkeys ``names`` (the first on one factor,
    the others in the session it made two-factor)."""
    member = await tenant.add_user(email)
    await mailbox.deliver()
    authenticator = SoftAuthenticator(ORIGIN)
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as browser:
        await _signed_in(browser, member.email)
        for name in names:
            await register(browser, authenticator, name)
    return member, authenticator


async def _passkey_names(runtime: Runtime, user_id: str) -> list[str]:
    async with runtime.database.transaction(write=False) as session:
        statement = select(WebAuthnCredential.name).where(WebAuthnCredential.user_id == user_id)
        return sorted(await session.scalars(statement))


async def test_a_passkey_added_with_a_phished_password_goes_with_the_owners_reset(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    # With the phished password, the account's first factor (no second one needed), then another in the session
    # the first made two-factor.
    member, attacker_key = await _account_with_passkeys(client, tenant, mailbox, "phished@example.com", "mine", "spare")
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as attacker:
        assert (await passwordless(attacker, attacker_key)).status_code == 303  # signs in alone, until…

    await _owner_resets(client, member, mailbox)

    assert await _passkey_names(runtime, member.id) == []
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as attacker:
        for passkey in attacker_key.passkeys:
            refused = await passwordless(attacker, attacker_key, passkey=passkey)
            assert refused.status_code == 400
            assert (await attacker.get("/ui/account")).headers["location"].startswith("/ui/sign-in")
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        fields = {"email": member.email, "password": NEW_PASSWORD}
        signed_in = await submit(owner, "/ui/sign-in", "/ui/sign-in", fields)
        assert signed_in.headers["location"] == "/ui/account"  # no second step they cannot answer
        assert (await owner.get("/ui/account")).status_code == 200
    assert (await _actions(runtime, member.id))[-2:] == [("mfa.removed", "passkey"), ("mfa.removed", "passkey")]


async def test_an_authenticator_app_added_with_the_password_alone_goes_with_a_reset(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("phished-app@example.com")
    await mailbox.deliver()
    await enrol(client, member.token, totp_clock)  # a token of the password alone
    assert (await sign_in(client, member.email)).json()["error"] == "mfa_required"

    await _owner_resets(client, member, mailbox)

    assert (await login(client, member.email, NEW_PASSWORD))["access_token"]  # no second step
    async with runtime.database.transaction(write=False) as session:
        assert list(await session.scalars(select(MfaFactor.id).where(MfaFactor.user_id == member.id))) == []
        assert list(await session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == member.id))) == []
    assert (await _actions(runtime, member.id))[-1] == ("mfa.removed", "otp")


async def test_a_passkey_added_by_a_session_that_proved_a_trusted_factor_survives_a_reset(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    member, owner_key = await _account_with_passkeys(client, tenant, mailbox, "careful@example.com", "Laptop")
    async with runtime.database.transaction() as session:  # as migration 0028 leaves the passkeys made before it
        await session.execute(update(WebAuthnCredential).values(enrolled_on_one_factor=False))
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await passwordless(owner, owner_key)).status_code == 303
        await register(owner, owner_key, "Phone")

    await _owner_resets(client, member, mailbox)

    assert await _passkey_names(runtime, member.id) == ["Laptop", "Phone"]
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        signed_in = await passwordless(owner, owner_key, passkey=owner_key.passkeys[1])
        assert signed_in.headers["location"] == "/ui/account"
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        fields = {"email": member.email, "password": NEW_PASSWORD}
        first = await submit(owner, "/ui/sign-in", "/ui/sign-in", fields)
        assert first.headers["location"] == "/ui/mfa"  # the second factor still guards the account
    assert "mfa.removed" not in [action for action, _ in await _actions(runtime, member.id)]
    assert (await client.get("/api/v1/me", headers=bearer(member.token))).status_code == 401  # sessions ended


async def test_a_passkey_made_after_removing_the_one_made_on_one_factor_is_not_trusted_either(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    """A sign-in with the passkey made on one factor proves it: removing that passkey and making another leaves the
    new one as little trusted."""
    member, attacker_key = await _account_with_passkeys(client, tenant, mailbox, "launder@example.com", "first")
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as attacker:
        assert (await passwordless(attacker, attacker_key)).status_code == 303
        async with runtime.database.transaction(write=False) as session:
            first_id = await session.scalar(select(WebAuthnCredential.id).where(WebAuthnCredential.name == "first"))
        removed = await submit(attacker, "/ui/account", f"/ui/account/passkeys/{first_id}/remove", {})
        assert removed.headers["location"] == "/ui/account?notice=passkey_removed"
        await register(attacker, attacker_key, "second")

    await _owner_resets(client, member, mailbox)

    assert await _passkey_names(runtime, member.id) == []
