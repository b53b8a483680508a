"""Email verification: a mailed link marks the address verified."""

import httpx

from tests.factories import PASSWORD, Tenant
from tests.mailbox import Mailbox, submit


async def test_admin_sends_a_verification_link_that_verifies(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("unverified@example.com")
    sent = await client.post(tenant.path(f"/users/{member.id}/email-verification"), headers=tenant.auth)
    assert sent.status_code == 202
    mail = await mailbox.one_for(member.email)
    assert mail.subject == "Confirm your email address for Acme"
    page = await client.get(mail.link)
    assert page.status_code == 200
    assert "unverified@example.com" in page.text
    user = (await client.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)).json()
    assert user["email_verified"] is False  # opening the link changes nothing
    done = await submit(client, mail.link, "/ui/verify-email", {"token": mail.link.split("token=")[1]})
    assert done.status_code == 200
    assert "Email address confirmed" in done.text
    user = (await client.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)).json()
    assert user["email_verified"] is True
    assert (await client.get(mail.link)).status_code == 410


async def test_users_ask_for_their_own_verification(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("self@example.com")
    assert (await client.post("/api/v1/me/email-verification", headers=member.auth)).status_code == 202
    mail = await mailbox.one_for(member.email)
    assert mail.subject == "Confirm your email address"
    await submit(client, mail.link, "/ui/verify-email", {"token": mail.link.split("token=")[1]})
    me = (await client.get("/api/v1/me", headers=member.auth)).json()
    assert me["email_verified"] is True
    assert (await client.post("/api/v1/me/email-verification", headers=member.auth)).status_code == 409


async def test_a_link_sent_to_an_old_address_verifies_nothing(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("before@example.com")
    await client.post(tenant.path(f"/users/{member.id}/email-verification"), headers=tenant.auth)
    link = (await mailbox.one_for(member.email)).link
    changed = await client.patch(
        tenant.path(f"/users/{member.id}"), json={"email": "after@example.com"}, headers=tenant.auth
    )
    assert changed.status_code == 200
    assert (await client.get(link)).status_code == 410
    refused = await submit(client, "/ui/forgot-password", "/ui/verify-email", {"token": link.split("token=")[1]})
    assert refused.status_code == 410
    user = (await client.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)).json()
    assert user["email_verified"] is False


async def test_verified_addresses_get_no_new_link(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user("already@example.com", email_verified=True)
    response = await client.post(tenant.path(f"/users/{member.id}/email-verification"), headers=tenant.auth)
    assert response.status_code == 409


LINKS_PER_HOUR = 5  # of one kind to one account: TENANTRY_MAILED_LINK_RATE_LIMIT's default


async def test_a_member_cannot_mail_themselves_verification_links_without_end(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("loop@example.com")
    asked = [await client.post("/api/v1/me/email-verification", headers=member.auth) for _ in range(LINKS_PER_HOUR + 1)]
    assert [answer.status_code for answer in asked] == [202] * LINKS_PER_HOUR + [429]
    assert asked[-1].json()["type"] == "urn:tenantry:problem:rate-limited"
    assert 1 <= int(asked[-1].headers["retry-after"]) <= 3_600
    by_admin = await client.post(tenant.path(f"/users/{member.id}/email-verification"), headers=tenant.auth)
    assert by_admin.status_code == 429  # the account's allowance, whoever asks
    assert len([mail for mail in await mailbox.deliver() if mail.to == member.email]) == LINKS_PER_HOUR
    reset = await client.post(tenant.path(f"/users/{member.id}/password-reset"), headers=tenant.auth)
    assert reset.status_code == 202  # another kind of link counts apart


async def test_my_account_page_refuses_one_verification_link_too_many(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user("page-loop@example.com")
    signed_in = await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": member.email, "password": PASSWORD})
    assert signed_in.status_code == 303
    sent = [await submit(client, "/ui/account", "/ui/account/verify-email", {}) for _ in range(LINKS_PER_HOUR + 1)]
    assert [answer.status_code for answer in sent] == [303] * LINKS_PER_HOUR + [429]
    assert int(sent[-1].headers["retry-after"]) > 0
