"""Password reset: by address (same answer for everyone, rate-limited) or sent by an admin; the link sets a new one."""

import httpx
import pytest
from sqlalchemy import func, select

from tenantry.core.outbox.models import SENT, OutboxMessage
from tenantry.runtime import Runtime
from tenantry.settings import Settings
from tests.auth.conftest import MakeInstance
from tests.factories import PASSWORD, Tenant, bearer, login
from tests.mailbox import Mailbox, submit

RESET = "/api/v1/auth/password-reset"
FORGOT = "/ui/forgot-password"
LINKS_PER_HOUR = 5  # of one kind to one account: TENANTRY_MAILED_LINK_RATE_LIMIT's default
NEW_PASSWORD = "the reset passphrase"


async def _forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await submit(client, FORGOT, FORGOT, {"email": email})


async def _reset_with(client: httpx.AsyncClient, link: str, password: str = NEW_PASSWORD) -> httpx.Response:
    fields = {"token": link.split("token=")[1], "password": password, "password_repeat": password}
    return await submit(client, link, "/ui/reset-password", fields)


async def test_answers_are_identical_for_known_and_unknown_addresses(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    known = await client.post(RESET, json={"email": tenant.owner.email})
    unknown = await client.post(RESET, json={"email": "nobody-here@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert known.json() == {"detail": unknown.json()["detail"]}
    strip = {"x-request-id", "date"}
    assert {k: v for k, v in known.headers.items() if k not in strip} == {
        k: v for k, v in unknown.headers.items() if k not in strip
    }
    async with runtime.database.transaction(write=False) as session:
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert queued == 2  # the request does the same work for both: one job each


async def test_the_mailed_link_sets_a_new_password(client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox) -> None:
    member = await tenant.add_user("forgetful@example.com")
    assert (await client.post(RESET, json={"email": "Forgetful@Example.com"})).status_code == 202
    await client.post(RESET, json={"email": "nobody-here@example.com"})
    mail = await mailbox.one_for(member.email)
    assert mail.subject == "Reset your Acme password"
    assert mail.link.startswith("http://testserver/ui/reset-password?token=")
    assert "60 minutes" in mail.text or "1 hour" in mail.text
    done = await _reset_with(client, mail.link)
    assert done.status_code == 200, done.text
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 401  # sessions ended
    assert (await login(client, member.email, NEW_PASSWORD))["access_token"]
    old = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": member.email, "password": PASSWORD}
    )
    assert old.status_code == 400


async def test_a_reset_asked_under_another_spelling_reaches_the_account(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("Ärger@acme.test")
    assert (await client.post(RESET, json={"email": "ÄRGER@acme.test"})).status_code == 202
    mail = await mailbox.one_for(member.email)  # sent to the address as typed at creation
    assert (await _reset_with(client, mail.link)).status_code == 200
    assert (await login(client, "ärger@acme.test", NEW_PASSWORD))["access_token"]


async def test_a_used_reset_link_grants_nothing(client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox) -> None:
    member = await tenant.add_user("once@example.com")
    await client.post(RESET, json={"email": member.email})
    link = (await mailbox.one_for(member.email)).link
    assert (await _reset_with(client, link)).status_code == 200
    assert (await client.get(link)).status_code == 410
    replay = await submit(
        client,
        "/ui/forgot-password",
        "/ui/reset-password",
        {"token": link.split("token=")[1], "password": "attacker choice 1", "password_repeat": "attacker choice 1"},
    )
    assert replay.status_code == 410
    assert (await login(client, member.email, NEW_PASSWORD))["access_token"]


async def test_a_newer_reset_link_voids_the_older(client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox) -> None:
    member = await tenant.add_user("twice@example.com")
    await client.post(RESET, json={"email": member.email})
    first = (await mailbox.one_for(member.email)).link
    await client.post(RESET, json={"email": member.email})
    second = (await mailbox.one_for(member.email)).link
    assert (await client.get(first)).status_code == 410
    assert (await client.get(second)).status_code == 200


async def test_a_password_change_voids_pending_reset_links(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("changer@example.com")
    await client.post(RESET, json={"email": member.email})
    link = (await mailbox.one_for(member.email)).link
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "changed meanwhile"},
        headers=member.auth,
    )
    assert changed.status_code == 204
    assert (await client.get(link)).status_code == 410


async def test_requests_are_rate_limited_per_address(client: httpx.AsyncClient, settings: Settings) -> None:
    limit = int(settings.password_reset_rate_limit.split("/")[0])
    for _ in range(limit):
        assert (await client.post(RESET, json={"email": "limited@example.com"})).status_code == 202
    refused = await client.post(RESET, json={"email": "LIMITED@example.com"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert (await client.post(RESET, json={"email": "other-address@example.com"})).status_code == 202


async def _outbox_rows(runtime: Runtime) -> int:
    async with runtime.database.transaction(write=False) as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


async def test_one_client_asking_for_many_addresses_is_refused_by_the_form(instance: MakeInstance) -> None:
    app = await instance(auth_rate_limit="3/minute")
    client, neighbour = await app.client("203.0.113.9"), await app.client("198.51.100.2")
    answers = [await _forgot(client, f"someone{i}@example.com") for i in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 'action="/ui/forgot-password"' in refused.text  # the usual page, saying why
    assert "Too many reset requests" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert await _outbox_rows(app.runtime) == 3
    assert (await _forgot(neighbour, "someone9@example.com")).status_code == 200


async def test_the_form_and_the_api_count_a_client_s_reset_requests_together(instance: MakeInstance) -> None:
    app = await instance(auth_rate_limit="3/minute")
    client = await app.client("203.0.113.10")
    by_api = [await client.post(RESET, json={"email": f"api{i}@example.com"}) for i in range(2)]
    by_form = [await _forgot(client, f"form{i}@example.com") for i in range(2)]
    assert [answer.status_code for answer in by_api + by_form] == [202, 202, 200, 429]
    assert (await client.post(RESET, json={"email": "api9@example.com"})).status_code == 429


async def test_the_form_refuses_an_address_asked_too_often(client: httpx.AsyncClient, settings: Settings) -> None:
    limit = int(settings.password_reset_rate_limit.split("/")[0])
    for _ in range(limit):
        assert (await _forgot(client, "limited-form@example.com")).status_code == 200
    refused = await _forgot(client, "LIMITED-form@example.com")
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.text
    assert int(refused.headers["retry-after"]) > 0


async def test_an_account_gets_a_few_reset_links_an_hour_whoever_asks(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("reset-loop@example.com")
    sent = [
        await client.post(tenant.path(f"/users/{member.id}/password-reset"), headers=tenant.auth)
        for _ in range(LINKS_PER_HOUR + 1)
    ]
    assert [answer.status_code for answer in sent] == [202] * LINKS_PER_HOUR + [429]
    assert int(sent[-1].headers["retry-after"]) > 0
    assert (await client.post(RESET, json={"email": member.email})).status_code == 202  # it tells nothing
    assert len([mail for mail in await mailbox.deliver() if mail.to == member.email]) == LINKS_PER_HOUR
    async with runtime.database.transaction(write=False) as session:
        statuses = set(await session.scalars(select(OutboxMessage.status)))
    assert statuses == {SENT}  # the request by address was done with, not failed or retried


async def test_disabled_accounts_get_no_reset_mail(client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox) -> None:
    member = await tenant.add_user("disabled@example.com")
    await client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)
    await client.post(RESET, json={"email": member.email})
    assert await mailbox.deliver() == []


@pytest.mark.parametrize("body", [{}, {"email": "not an address"}, {"email": "a@b.io", "extra": 1}])
async def test_malformed_requests_are_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    assert (await client.post(RESET, json=body)).status_code == 422


async def test_admin_sends_a_reset(client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox) -> None:
    member = await tenant.add_user("helped@example.com")
    sent = await client.post(tenant.path(f"/users/{member.id}/password-reset"), headers=tenant.auth)
    assert sent.status_code == 202
    link = (await mailbox.one_for(member.email)).link
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 200  # nothing changes until used
    assert (await _reset_with(client, link)).status_code == 200
    assert (await login(client, member.email, NEW_PASSWORD))["access_token"]


async def test_admin_reset_needs_the_permission(client: httpx.AsyncClient, tenant: Tenant) -> None:
    viewer = await tenant.add_user(roles=["viewer"])
    target = await tenant.add_user()
    response = await client.post(tenant.path(f"/users/{target.id}/password-reset"), headers=viewer.auth)
    assert response.status_code == 403


async def test_reset_through_the_forgot_password_page(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, root_token: str
) -> None:
    member = await tenant.add_user("pages@example.com")
    page = await submit(client, "/ui/forgot-password", "/ui/forgot-password", {"email": member.email})
    unknown = await submit(client, "/ui/forgot-password", "/ui/forgot-password", {"email": "ghost@example.com"})
    assert page.status_code == unknown.status_code == 200
    assert page.text == unknown.text
    link = (await mailbox.one_for(member.email)).link
    assert (await _reset_with(client, link)).status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(root_token))).status_code == 200
