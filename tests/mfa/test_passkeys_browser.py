"""Passkeys in a real browser: Chromium (Playwright) with a virtual authenticator (the CDP ``WebAuthn`` domain),
against a live server on ``localhost`` (the relying-party id is the host of ``TENANTRY_BASE_URL``)."""

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, CDPSession, Page, async_playwright

from tests.conftest import settings_for
from tests.factories import PASSWORD, Tenant
from tests.live_server import free_port, serve
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, pytestmark

__all__ = ["pytestmark"]


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[str]:
    port = free_port()
    with serve(settings_for(database_url, base_url=f"http://localhost:{port}"), port):
        yield f"http://localhost:{port}"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[tuple[Page, CDPSession]]:
    """A phone-sized page whose browser has a platform authenticator that holds passkeys and verifies its user."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    opened = await context.new_page()
    cdp = await context.new_cdp_session(opened)
    await cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    yield opened, cdp
    await context.close()


async def _password(page: Page, site: str, email: str) -> None:
    await page.goto(f"{site}/ui/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def test_register_on_my_account_then_sign_in_with_the_passkey_alone_and_as_second_factor(
    tenant: Tenant, site: str, page: tuple[Page, CDPSession]
) -> None:
    tab, _ = page
    member = await tenant.add_user("chromium-passkey@example.com")
    await _password(tab, site, member.email)
    await tab.get_by_role("heading", name="My account").wait_for()
    await tab.get_by_label("Name of the passkey").fill("Test phone")
    await tab.get_by_role("button", name="Add a passkey").click()
    await tab.get_by_text("Your passkey is added. You can sign in with it.").wait_for()
    await tab.get_by_text("Test phone").wait_for()
    await tab.get_by_role("button", name="Sign out").click()

    # The passkey alone, from the keyboard: no email address, no password.
    await tab.goto(f"{site}/ui/sign-in")
    await tab.get_by_role("button", name="Sign in with a passkey").focus()
    await tab.keyboard.press("Enter")
    await tab.get_by_role("heading", name="My account").wait_for()
    await tab.get_by_text("last used").wait_for()
    await tab.get_by_role("button", name="Sign out").click()

    # The password, then the passkey as the second step.
    await _password(tab, site, member.email)
    await tab.get_by_role("heading", name="Two-step verification").wait_for()
    await tab.get_by_role("button", name="Use a passkey").click()
    await tab.get_by_role("heading", name="My account").wait_for()
