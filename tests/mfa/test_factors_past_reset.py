"""A second factor made by a session that proved the password alone: an ordinary reset keeps it (whoever holds the
mailbox does not pass the second factor)."""

import httpx
from sqlalchemy import select, update

from tenantry.core.mfa.models import MfaFactor, RecoveryCode, WebAuthnCredential
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, bearer
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


async def test_an_ordinary_reset_keeps_a_passkey_made_on_one_factor(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    """Whoever holds the mailbox does not pass the second factor by a reset: the factor stays, and is asked."""
    member, _ = await _account_with_passkeys(client, tenant, mailbox, "kept@example.com", "Laptop")
    await mailbox.deliver()

    await _owner_resets(client, member, mailbox)

    assert await _passkey_names(runtime, member.id) == ["Laptop"]
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        fields = {"email": member.email, "password": NEW_PASSWORD}
        first = await submit(owner, "/ui/sign-in", "/ui/sign-in", fields)
        assert first.headers["location"] == "/ui/mfa"  # the second step is still asked
        assert (await owner.get("/ui/account")).headers["location"].startswith("/ui/")
    assert "mfa.removed" not in [action for action, _ in await _actions(runtime, member.id)]


async def test_an_ordinary_reset_keeps_an_authenticator_app_made_on_one_factor(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user("kept-app@example.com")
    await mailbox.deliver()
    await enrol(client, member.token, totp_clock)  # a token of the password alone
    await mailbox.deliver()

    await _owner_resets(client, member, mailbox)

    assert (await sign_in(client, member.email, NEW_PASSWORD)).json()["error"] == "mfa_required"
    async with runtime.database.transaction(write=False) as session:
        assert len(list(await session.scalars(select(MfaFactor.id).where(MfaFactor.user_id == member.id)))) == 1
        assert list(await session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == member.id)))


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
