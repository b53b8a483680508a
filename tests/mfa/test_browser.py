"""Two-step verification in a real browser (Chromium driven by Playwright): set up on My account, then sign in."""

import re
import time

import pyotp
from playwright.async_api import Page

from tests.factories import PASSWORD, Tenant
from tests.ui.test_browser import Site, api, browser, page, pytestmark, site

__all__ = ["api", "browser", "page", "pytestmark", "site"]


async def _sign_in(page: Page, site: Site, email: str) -> None:
    await page.goto(f"{site.url}/ui/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def test_set_up_an_app_on_my_account_then_sign_in_with_password_and_code(
    tenant: Tenant, site: Site, page: Page
) -> None:
    member = await tenant.add_user("browser-mfa@example.com")
    await _sign_in(page, site, member.email)
    await page.get_by_role("heading", name="My account").wait_for()
    await page.get_by_role("link", name="Set up an authenticator app").click()
    await page.get_by_role("heading", name="Set up an authenticator app").wait_for()
    assert await page.locator("svg.qr").is_visible()
    secret = (await page.get_by_label("Setup key").inner_text()).strip()
    otp = pyotp.TOTP(secret)
    await page.get_by_label("Code from the app").fill(otp.now())
    await page.get_by_role("button", name="Turn on two-step verification").click()
    await page.get_by_role("heading", name="Save your recovery codes").wait_for()
    codes = await page.locator("ul.codes code").all_inner_texts()
    assert len(codes) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", code) for code in codes)
    await page.get_by_role("link", name="I have saved them: continue").click()
    await page.get_by_role("button", name="Sign out").click()

    await _sign_in(page, site, member.email)
    await page.get_by_role("heading", name="Two-step verification").wait_for()
    await page.get_by_label("Code").fill("000000")
    await page.get_by_role("button", name="Verify").click()
    await page.get_by_text("That code is wrong or already used").first.wait_for()
    await page.get_by_label("Code").fill(otp.at(time.time() + 30))  # the next step: the set-up code is used up
    await page.get_by_role("button", name="Verify").click()
    await page.get_by_role("heading", name="My account").wait_for()
    await page.get_by_role("button", name="Sign out").click()

    await _sign_in(page, site, member.email)
    await page.get_by_role("link", name="Use a recovery code").click()
    await page.get_by_label("Recovery code").fill(codes[0])
    await page.get_by_role("button", name="Verify").click()
    await page.get_by_role("heading", name="My account").wait_for()
    await page.get_by_text("9 recovery codes left.").wait_for()
