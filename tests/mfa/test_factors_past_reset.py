"""A second factor made by a session that proved the password alone (whoever phished it may have made it): the
address is mailed a notice whose link sets a new password and removes such factors; an ordinary reset keeps them
(whoever holds the mailbox does not pass the second factor), and a factor a trusted second factor made is not
told."""

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from tenantry.core.mfa.models import MfaFactor, RecoveryCode, WebAuthnCredential
from tenantry.core.onetime.models import FACTOR_ADDED, OneTimeToken
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, bearer, login
from tests.flows.test_resets import RESET, _reset_with
from tests.mailbox import Mail, Mailbox, submit
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


async def _account_with_app(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, email: str, totp_clock: TotpClock
) -> Member:
    """An account whose token of the password alone sets up an authenticator app: the second step is asked."""
    member = await tenant.add_user(email)
    await mailbox.deliver()
    await enrol(client, member.token, totp_clock)
    assert (await sign_in(client, member.email)).json()["error"] == "mfa_required"
    return member


async def _notices(mailbox: Mailbox, email: str) -> list[Mail]:
    """The notices of a factor added delivered now (to anyone: the test checks they went to ``email``)."""
    delivered = await mailbox.deliver()
    assert {mail.to for mail in delivered} <= {email}, [mail.to for mail in delivered]
    return [mail for mail in delivered if "/ui/factor-added?token=" in mail.link]


async def _secure_with(client: httpx.AsyncClient, link: str, password: str = NEW_PASSWORD) -> httpx.Response:
    """Follow a notice's link in a browser: the page asks for a new password, its form (CSRF) posts it."""
    fields = {"token": link.split("token=")[1], "password": password, "password_repeat": password}
    return await submit(client, link, "/ui/factor-added", fields)


async def _passkey_names(runtime: Runtime, user_id: str) -> list[str]:
    async with runtime.database.transaction(write=False) as session:
        statement = select(WebAuthnCredential.name).where(WebAuthnCredential.user_id == user_id)
        return sorted(await session.scalars(statement))


async def test_the_owner_removes_a_passkey_added_with_a_phished_password_through_the_notice(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    # With the phished password, the account's first factor (no second one needed), then another in the session
    # the first made two-factor: each is told to the owner's address.
    member, attacker_key = await _account_with_passkeys(client, tenant, mailbox, "phished@example.com", "mine", "spare")
    notices = await _notices(mailbox, member.email)
    assert [mail.subject for mail in notices] == ["A passkey was added to your account"] * 2
    assert "If this was not you" in notices[0].text
    assert "/ui/factor-added?token=" in notices[0].html
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as attacker:
        assert (await passwordless(attacker, attacker_key)).status_code == 303  # signs in alone, until…

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        page = await owner.get(notices[0].link)
        assert page.status_code == 200
        assert member.email in page.text
        done = await _secure_with(owner, notices[0].link)
        assert done.status_code == 200, done.text

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
        assert (await owner.get(notices[1].link)).status_code == 410  # the other notice's link ended with it
    assert (await _actions(runtime, member.id))[-2:] == [("mfa.removed", "passkey"), ("mfa.removed", "passkey")]
    assert (await client.get("/api/v1/me", headers=bearer(member.token))).status_code == 401  # sessions ended


async def test_an_authenticator_app_added_with_the_password_alone_is_told_and_removed_through_the_notice(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox, totp_clock: TotpClock
) -> None:
    member = await _account_with_app(client, tenant, mailbox, "phished-app@example.com", totp_clock)
    [notice] = await _notices(mailbox, member.email)
    assert notice.subject == "An authenticator app was added to your account"

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await _secure_with(owner, notice.link)).status_code == 200

    assert (await login(client, member.email, NEW_PASSWORD))["access_token"]  # no second step
    async with runtime.database.transaction(write=False) as session:
        assert list(await session.scalars(select(MfaFactor.id).where(MfaFactor.user_id == member.id))) == []
        assert list(await session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == member.id))) == []
    assert (await _actions(runtime, member.id))[-1] == ("mfa.removed", "otp")


async def test_the_notice_link_works_once_outlives_a_new_password_and_expires(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    member, _ = await _account_with_passkeys(client, tenant, mailbox, "once@example.com", "mine")
    [notice] = await _notices(mailbox, member.email)
    async with runtime.database.transaction() as session:  # whoever added it changes the password, or signs out
        await session.execute(update(User).where(User.id == member.id).values(tokens_valid_after=utcnow()))
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await _secure_with(owner, notice.link)).status_code == 200
        assert (await owner.get(notice.link)).status_code == 410
        token = notice.link.split("token=")[1]
        fields = {
            "token": token,
            "password": "yet another passphrase here",
            "password_repeat": "yet another passphrase here",
        }
        replay = await submit(owner, "/ui/sign-in", "/ui/factor-added", fields)
        assert replay.status_code == 410

    member, _ = await _account_with_passkeys(client, tenant, mailbox, "late@example.com", "mine")
    [notice] = await _notices(mailbox, member.email)
    async with runtime.database.transaction() as session:  # a week and a minute later
        statement = update(OneTimeToken).where(OneTimeToken.user_id == member.id, OneTimeToken.purpose == FACTOR_ADDED)
        await session.execute(statement.values(expires_at=utcnow() - timedelta(minutes=1)))
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await owner.get(notice.link)).status_code == 410
    assert await _passkey_names(runtime, member.id) == ["mine"]


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
    member = await _account_with_app(client, tenant, mailbox, "kept-app@example.com", totp_clock)
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
    await mailbox.deliver()  # the notice of the first (made on one factor)
    async with runtime.database.transaction() as session:  # as migration 0029 leaves the passkeys made before it
        await session.execute(update(WebAuthnCredential).values(enrolled_on_one_factor=False))
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await passwordless(owner, owner_key)).status_code == 303
        await register(owner, owner_key, "Phone")
    assert await _notices(mailbox, member.email) == []  # made by a trusted second factor: nothing to tell

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


async def test_a_passkey_made_after_removing_the_one_made_on_one_factor_is_told_and_removed_too(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    """A sign-in with the passkey made on one factor proves it: removing that passkey and making another leaves the
    new one as little trusted."""
    member, attacker_key = await _account_with_passkeys(client, tenant, mailbox, "launder@example.com", "first")
    [first_notice] = await _notices(mailbox, member.email)
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as attacker:
        assert (await passwordless(attacker, attacker_key)).status_code == 303
        async with runtime.database.transaction(write=False) as session:
            first_id = await session.scalar(select(WebAuthnCredential.id).where(WebAuthnCredential.name == "first"))
        removed = await submit(attacker, "/ui/account", f"/ui/account/passkeys/{first_id}/remove", {})
        assert removed.headers["location"] == "/ui/account?notice=passkey_removed"
        await register(attacker, attacker_key, "second")
    assert len(await _notices(mailbox, member.email)) == 1

    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as owner:
        assert (await _secure_with(owner, first_notice.link)).status_code == 200

    assert await _passkey_names(runtime, member.id) == []
