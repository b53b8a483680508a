"""Invitations: a user created without a password is mailed a link that sets it and activates the account."""

import httpx
from sqlalchemy import select, update

from tenantry.core.actor import SYSTEM
from tenantry.core.onetime.models import OneTimeToken
from tenantry.core.orgs import repository as orgs
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.core.users.schemas import UserCreate
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.console.test_pages import post, sign_in
from tests.factories import Tenant, login
from tests.mailbox import Mailbox, submit

NEW_PASSWORD = "a fresh invitation passphrase"


async def _invite(client: httpx.AsyncClient, tenant: Tenant, email: str = "invitee@example.com") -> str:
    response = await client.post(
        tenant.path("/users"), json={"email": email, "first_name": "Ines"}, headers=tenant.auth
    )
    assert response.status_code == 201
    assert response.json()["status"] == "invited"
    return str(response.json()["id"])


async def test_created_user_without_password_is_mailed_an_invitation(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    await _invite(client, tenant)
    mail = await mailbox.one_for("invitee@example.com")
    assert mail.subject == "Acme invited you: set your password"
    assert all(part in mail.text for part in ("Ines", "Acme", mail.link))
    assert all(part in mail.html for part in ("<strong>Acme</strong>", mail.link))
    assert mail.link.startswith("http://testserver/ui/activate?token=")


async def test_user_created_with_a_password_gets_no_mail(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    await tenant.add_user("has-password@example.com")
    assert [mail.to for mail in await mailbox.deliver()] == []


async def test_service_callers_may_create_users_without_mail(
    runtime: Runtime, tenant: Tenant, mailbox: Mailbox
) -> None:
    async with runtime.database.transaction() as session:
        org = await orgs.get_by_ref(session, tenant.slug)
        assert org is not None
        payload = UserCreate(email="confirmed@example.com", email_verified=True)
        await users.create(session, SYSTEM, org, payload, runtime.passwords)
    assert await mailbox.deliver() == []


async def test_the_link_names_org_and_email_sets_the_password_activates_and_signs_in(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    user_id = await _invite(client, tenant)
    link = (await mailbox.one_for("invitee@example.com")).link
    page = await client.get(link)
    assert page.status_code == 200
    assert f"Join {tenant.slug.title()}" in page.text
    assert f"You are activating the account invitee@example.com in {tenant.slug.title()}" in page.text
    fields = {"token": link.split("token=")[1], "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    done = await submit(client, link, "/ui/activate", fields)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/ui/account?notice=activated"
    account = await client.get("/ui/account?notice=activated")
    assert "invitee@example.com" in account.text
    assert "Your account is active and you are signed in." in account.text
    assert (await login(client, "invitee@example.com", NEW_PASSWORD))["access_token"]
    user = (await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)).json()
    assert (user["status"], user["email_verified"]) == ("active", True)


async def test_the_org_password_policy_applies(client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox) -> None:
    await _invite(client, tenant)
    link = (await mailbox.one_for("invitee@example.com")).link
    fields = {"token": link.split("token=")[1], "password": "short", "password_repeat": "short"}
    refused = await submit(client, link, "/ui/activate", fields)
    assert refused.status_code == 400
    assert "at least 8 characters" in refused.text
    assert (await client.get(link)).status_code == 200  # the link still works


async def test_a_used_link_shows_a_clear_page_and_grants_nothing(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    await _invite(client, tenant)
    link = (await mailbox.one_for("invitee@example.com")).link
    token = link.split("token=")[1]
    fields = {"token": token, "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    assert (await submit(client, link, "/ui/activate", fields)).status_code == 303
    again = await client.get(link)
    assert again.status_code == 410
    assert "This link no longer works" in again.text
    replay = await submit(client, "/ui/forgot-password", "/ui/activate", {**fields, "password": "another one entirely"})
    assert replay.status_code == 410
    assert (await login(client, "invitee@example.com", NEW_PASSWORD))["access_token"]


async def test_an_expired_link_grants_nothing(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, runtime: Runtime
) -> None:
    await _invite(client, tenant)
    link = (await mailbox.one_for("invitee@example.com")).link
    async with runtime.database.transaction() as session:
        await session.execute(update(OneTimeToken).values(expires_at=utcnow()))
    assert (await client.get(link)).status_code == 410
    fields = {"token": link.split("token=")[1], "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    assert (await submit(client, "/ui/forgot-password", "/ui/activate", fields)).status_code == 410
    async with runtime.database.transaction(write=False) as session:
        user = (await session.scalars(select(User).where(User.email == "invitee@example.com"))).one()
    assert user.password_hash is None


async def test_resending_the_invitation_voids_the_first_link(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    user_id = await _invite(client, tenant)
    first = (await mailbox.one_for("invitee@example.com")).link
    resent = await client.post(tenant.path(f"/users/{user_id}/invitation"), headers=tenant.auth)
    assert resent.status_code == 202
    second = (await mailbox.one_for("invitee@example.com")).link
    assert first != second
    assert (await client.get(first)).status_code == 410
    assert (await client.get(second)).status_code == 200


async def test_no_invitation_for_a_user_who_has_a_password(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    response = await client.post(tenant.path(f"/users/{member.id}/invitation"), headers=tenant.auth)
    assert response.status_code == 409


async def test_tokens_are_stored_hashed(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, runtime: Runtime
) -> None:
    await _invite(client, tenant)
    token = (await mailbox.one_for("invitee@example.com")).link.split("token=")[1]
    assert len(token) >= 43  # 256 bits, base64url
    async with runtime.database.transaction(write=False) as session:
        stored = (await session.scalars(select(OneTimeToken))).one()
    assert token not in (stored.token_hash, stored.id)


LINKS_PER_HOUR = 5  # of one kind to one account: TENANTRY_MAILED_LINK_RATE_LIMIT's default


async def test_an_admin_cannot_resend_an_invitation_to_one_address_without_end(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    user_id = await _invite(client, tenant, "someone@thirdparty.example")  # the first link
    resent = [
        await client.post(tenant.path(f"/users/{user_id}/invitation"), headers=tenant.auth)
        for _ in range(LINKS_PER_HOUR)
    ]
    assert [answer.status_code for answer in resent] == [202] * (LINKS_PER_HOUR - 1) + [429]
    assert resent[-1].json()["type"] == "urn:tenantry:problem:rate-limited"
    assert 1 <= int(resent[-1].headers["retry-after"]) <= 3_600
    delivered = [mail for mail in await mailbox.deliver() if mail.to == "someone@thirdparty.example"]
    assert len(delivered) == LINKS_PER_HOUR


async def test_the_console_refuses_one_invitation_too_many(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user_id = await _invite(client, tenant, "console-loop@thirdparty.example")
    await sign_in(client, tenant.owner.email)
    member_page = f"/console/{tenant.slug}/members/{user_id}"
    resent = [await post(client, member_page, f"{member_page}/invitation") for _ in range(LINKS_PER_HOUR)]
    assert [answer.status_code for answer in resent] == [303] * (LINKS_PER_HOUR - 1) + [429]
    assert int(resent[-1].headers["retry-after"]) > 0
