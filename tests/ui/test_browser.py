"""The flows end to end in a real browser (Chromium driven by Playwright) against a real server and SMTP server.

One browser for the module, one server (with its in-process outbox worker) mailing to aiosmtpd.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import update

from tenantry.core.onetime.models import OneTimeToken
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import PASSWORD, Tenant
from tests.live_server import free_port, serve
from tests.smtp_server import Inbox, smtp_server

CHROMIUM = os.environ.get("TENANTRY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"no Chromium at {CHROMIUM}"
)


@dataclass
class Site:
    url: str
    inbox: Inbox

    async def mail_to(self, email: str, *, within: float = 20) -> str:
        """The text of the one email for ``email`` (waits for the server's worker to deliver it)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = [message for message in self.inbox.accepted if message["To"] == email]
            if found:
                assert len(found) == 1
                self.inbox.accepted.remove(found[0])
                text = found[0].get_body(("plain",))
                assert text is not None
                return str(text.get_content())
            await asyncio.sleep(0.05)
        raise AssertionError(f"no email for {email}")

    async def link_to(self, email: str) -> str:
        text = await self.mail_to(email)
        links = [line.strip() for line in text.splitlines() if line.strip().startswith(self.url)]
        assert len(links) == 1, text
        return links[0]

    async def login(self, email: str, password: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url) as client:
            return await client.post(
                "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
            )


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[Site]:
    port = free_port()
    with smtp_server() as (inbox, smtp_url):
        settings = settings_for(
            database_url,
            base_url=f"http://127.0.0.1:{port}",
            smtp_url=smtp_url,
            smtp_security="none",
            outbox_poll_seconds=0.05,
            jwt_issuer="http://testserver",  # tokens of the in-process test app work here too
        )
        with serve(settings, port) as url:
            yield Site(url, inbox)


@pytest.fixture
async def api(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    """The API of the server under test (links in mail name the server that wrote the mail)."""
    async with httpx.AsyncClient(base_url=site.url) as client:
        yield client


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    yield await context.new_page()
    await context.close()


async def _set_password(page: Page, password: str, button: str) -> None:
    await page.get_by_label("New password", exact=True).fill(password)
    await page.get_by_label("Repeat the new password").fill(password)
    await page.get_by_role("button", name=button).click()


async def test_invitation_link_names_org_and_email_then_signs_in_and_the_password_works(
    api: httpx.AsyncClient, tenant: Tenant, site: Site, page: Page
) -> None:
    created = await api.post(tenant.path("/users"), json={"email": "browser-invitee@example.com"}, headers=tenant.auth)
    assert created.status_code == 201
    link = await site.link_to("browser-invitee@example.com")
    await page.goto(link)
    await page.get_by_role("heading", name=f"Join {tenant.slug.title()}").wait_for()
    await page.get_by_text("You are activating the account browser-invitee@example.com").wait_for()
    await page.get_by_text("At least 8 characters.").wait_for()
    await _set_password(page, "chosen on a quiet morning", "Set password and sign in")
    await page.get_by_role("heading", name="My account").wait_for()
    await page.get_by_text("Your account is active and you are signed in.").wait_for()
    assert (await site.login("browser-invitee@example.com", "chosen on a quiet morning")).status_code == 200
    await page.goto(link)
    await page.get_by_role("heading", name="This link no longer works").wait_for()


async def test_password_reset_from_the_forgot_page_then_token_login(
    api: httpx.AsyncClient, tenant: Tenant, site: Site, page: Page
) -> None:
    member = await tenant.add_user("browser-reset@example.com")
    await page.goto(f"{site.url}/ui/sign-in")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Email address").fill(member.email)
    await page.get_by_role("button", name="Send the link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    link = await site.link_to(member.email)
    await page.goto(link)
    await _set_password(page, "renewed on a rainy evening", "Save new password")
    await page.get_by_role("heading", name="Password saved").wait_for()
    assert (await site.login(member.email, "renewed on a rainy evening")).status_code == 200
    assert (await site.login(member.email, PASSWORD)).status_code == 400
    await page.goto(link)
    await page.get_by_role("heading", name="This link no longer works").wait_for()


async def test_email_verification_link(api: httpx.AsyncClient, tenant: Tenant, site: Site, page: Page) -> None:
    member = await tenant.add_user("browser-verify@example.com")
    await api.post(tenant.path(f"/users/{member.id}/email-verification"), headers=tenant.auth)
    await page.goto(await site.link_to(member.email))
    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_role("heading", name="Email address confirmed").wait_for()
    user = (await api.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)).json()
    assert user["email_verified"] is True


async def test_magic_link_signs_in_once_and_lands_on_my_account(
    api: httpx.AsyncClient, tenant: Tenant, site: Site, page: Page, runtime: Runtime
) -> None:
    member = await tenant.add_user("browser-magic@example.com")
    link = (await api.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    await page.goto(link)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(f"{site.url}/ui/account")
    await page.get_by_text(member.email).first.wait_for()
    await page.goto(link)
    await page.get_by_role("heading", name="This link no longer works").wait_for()
    second = (await api.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    async with runtime.database.transaction() as session:
        await session.execute(update(OneTimeToken).values(expires_at=utcnow()))
    await page.goto(second)
    await page.get_by_role("heading", name="This link no longer works").wait_for()


async def test_sign_in_with_a_required_change_then_my_account_and_sign_out(
    api: httpx.AsyncClient, tenant: Tenant, site: Site, page: Page
) -> None:
    member = await tenant.add_user("browser-account@example.com")
    await api.post(
        tenant.path(f"/users/{member.id}/password"),
        json={"password": "temporary password", "require_change": True},
        headers=tenant.auth,
    )
    await page.goto(f"{site.url}/ui/sign-in")
    await page.get_by_label("Email address").fill(member.email)
    await page.get_by_label("Password").fill("temporary password")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await _set_password(page, "my own password now", "Change password and continue")
    await page.get_by_role("heading", name="My account").wait_for()
    await page.get_by_label("First name").fill("Bea")
    await page.get_by_role("button", name="Save profile").click()
    await page.get_by_text("Your profile is saved.").wait_for()
    assert await page.get_by_role("listitem").filter(has_text="Acme").count() == 1
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("heading", name="You are signed out").wait_for()
    await page.goto(f"{site.url}/ui/account")
    await page.get_by_role("heading", name="Sign in").wait_for()
    assert (await site.login(member.email, "my own password now")).status_code == 200
