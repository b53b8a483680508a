"""The console in a real browser (Chromium driven by Playwright) against a real server: an org admin's
day, a member's read-only view, another org's admin, a platform admin. Each action's effect is checked
through the API. The test also takes the screenshots docs/console.md shows (desktop and a 390-px phone;
into docs/console when TENANTRY_CONSOLE_SCREENSHOTS=1, else a temporary folder), and checks that no page
scrolls sideways on the phone.

One browser and one server for the module.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import PASSWORD, Tenant, bearer, make_platform_admin
from tests.live_server import free_port, serve
from tests.smtp_server import smtp_server

CHROMIUM = os.environ.get("TENANTRY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"no Chromium at {CHROMIUM}"
)
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[str]:
    port = free_port()
    with smtp_server() as (_inbox, smtp_url):
        settings = settings_for(
            database_url,
            base_url=f"http://127.0.0.1:{port}",
            smtp_url=smtp_url,
            smtp_security="none",
            outbox_poll_seconds=0.05,
            jwt_issuer="http://testserver",
        )
        with serve(settings, port) as url:
            yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield launched
        await launched.close()


@pytest.fixture
async def desktop(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    await context.close()


@pytest.fixture
def shots(project_root: Path, tmp_path: Path) -> Path:
    """Where the screenshots go: docs/console when TENANTRY_CONSOLE_SCREENSHOTS is set (to refresh the ones
    docs/console.md shows), else a temporary folder, so that a test run leaves the checkout unchanged."""
    if not os.environ.get("TENANTRY_CONSOLE_SCREENSHOTS"):
        return tmp_path
    folder = project_root / "docs" / "console"
    folder.mkdir(exist_ok=True)
    return folder


async def sign_in(page: Page, url: str, email: str) -> None:
    """Through the hosted sign-in, as a console address without a session leads there."""
    await page.goto(f"{url}/console")
    await page.wait_for_url(lambda address: "/ui/sign-in?continue=/console" in address)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(lambda address: "/console" in address and "/ui/" not in address)


async def snap(page: Page, shots: Path, name: str) -> None:
    await page.screenshot(path=str(shots / f"{name}-desktop.png"))


async def on_phone(browser: Browser, desktop: BrowserContext, shots: Path, pages: dict[str, str]) -> None:
    """Each page at 390 px, signed in as on the desktop: no sideways scrolling, and its screenshot."""
    phone = await browser.new_context(viewport=PHONE, storage_state=await desktop.storage_state(), is_mobile=True)
    phone.set_default_timeout(TIMEOUT_MS)
    page = await phone.new_page()
    for name, url in pages.items():
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (name, width)
        await page.screenshot(path=str(shots / f"{name}-phone.png"))
    await phone.close()


async def test_an_org_admin_does_the_days_work_in_the_console(
    site: str, tenant: Tenant, browser: Browser, desktop: BrowserContext, shots: Path
) -> None:
    api = tenant.client
    ada = await tenant.add_user("ada.lovelace@example.com", first_name="Ada", last_name="Lovelace")
    await tenant.add_user("grace.hopper@example.com", first_name="Grace", last_name="Hopper")
    base = f"{site}/console/{tenant.slug}"
    page = await desktop.new_page()
    await sign_in(page, site, tenant.owner.email)
    await page.wait_for_url(f"{base}/members")
    await page.get_by_text("4 members").wait_for()
    await snap(page, shots, "members")

    await page.get_by_role("searchbox").fill("lovel")  # htmx asks as you type
    await page.get_by_text("1 member", exact=True).wait_for()
    assert await page.get_by_role("link", name="Grace Hopper").count() == 0
    await page.get_by_role("searchbox").fill("")
    await page.get_by_text("4 members").wait_for()

    await page.get_by_text("Invite", exact=True).click()
    await page.get_by_label("Email address").fill("invitee@example.com")
    await page.get_by_label("First name").fill("Ivy")
    await page.get_by_label("Last name").fill("Newcomer")
    await page.get_by_role("button", name="Send invitation").click()
    await page.get_by_text("Invited: an invitation is on its way.").wait_for()
    invited = (await api.get(tenant.path("/users"), params={"q": "invitee"}, headers=tenant.auth)).json()["items"]
    assert [user["status"] for user in invited] == ["invited"]

    await page.goto(f"{base}/members")
    await page.get_by_role("link", name="Ada Lovelace").click()
    await page.get_by_role("heading", name="Ada Lovelace").wait_for()
    await page.locator("#role-viewer").check()
    await page.locator("#role-member").uncheck()
    await page.get_by_role("button", name="Save roles").click()
    await page.get_by_text("Roles saved.").wait_for()
    assert (await api.get(tenant.path(f"/users/{ada.id}"), headers=tenant.auth)).json()["roles"] == ["viewer"]

    for action, status in (("Disable", "disabled"), ("Enable", "active")):
        await page.get_by_role("link", name=action, exact=True).click()
        await page.get_by_role("button", name=action, exact=True).click()
        await page.get_by_role("status").first.wait_for()
        user = (await api.get(tenant.path(f"/users/{ada.id}"), headers=tenant.auth)).json()
        assert user["status"] == status
    await page.get_by_role("button", name="Create a magic link").click()
    await page.get_by_label("Sign-in link").wait_for()
    await snap(page, shots, "member")

    await page.goto(f"{base}/api-keys")
    await page.get_by_label("Name").fill("deploy bot")
    await page.locator("#key-role-viewer").check()
    await page.get_by_role("button", name="Create key").click()
    key = await page.get_by_label("API key").input_value()
    assert (await api.get(tenant.path(), headers={"x-api-key": key})).status_code == 200
    await page.get_by_role("button", name="Copy").click()
    await page.get_by_text("Copied.").wait_for()
    await snap(page, shots, "api-keys")
    await page.goto(f"{base}/api-keys")
    await page.get_by_role("link", name="Revoke deploy bot").click()
    await page.get_by_role("button", name="Revoke").click()
    await page.get_by_text("The key is revoked.").wait_for()
    assert (await api.get(tenant.path(), headers={"x-api-key": key})).status_code == 401

    rows = "".join(f"bulk{n:02}@example.com,Bulk,Person{n:02},,viewer\n" for n in range(40))
    await page.goto(f"{base}/import")
    await snap(page, shots, "import")
    await page.get_by_label("CSV file").set_input_files(
        {
            "name": "people.csv",
            "mimeType": "text/csv",
            "buffer": ("email,first_name,last_name,password,roles\n" + rows).encode(),
        }
    )
    await page.get_by_role("button", name="Import", exact=True).click()
    await page.get_by_role("heading", name="Import finished").wait_for()
    assert await page.locator("#import-created").inner_text() == "40"
    assert await page.locator("#import-bar").get_attribute("value") == "40"
    await snap(page, shots, "import-finished")
    listed = await api.get(tenant.path("/users"), params={"q": "bulk", "limit": 100}, headers=tenant.auth)
    assert len(listed.json()["items"]) == 40

    await page.goto(f"{base}/audit")
    await page.get_by_role("heading", name="Audit log").wait_for()
    await page.get_by_label("Action").fill("member.disabled")
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_text("member.disabled").first.wait_for()
    assert await page.get_by_text("api_key.created").count() == 0
    await page.goto(f"{base}/audit")
    await snap(page, shots, "audit")
    await page.goto(f"{base}/roles")
    await snap(page, shots, "roles")
    await page.goto(f"{base}/settings")
    await snap(page, shots, "settings")
    await page.goto(f"{base}/partners")
    await snap(page, shots, "partners")

    pages = {
        name: f"{base}/{name}" for name in ("members", "roles", "api-keys", "audit", "import", "partners", "settings")
    }
    await on_phone(browser, desktop, shots, {**pages, "member": f"{base}/members/{ada.id}"})


async def test_a_member_sees_read_only_pages(site: str, tenant: Tenant, desktop: BrowserContext) -> None:
    member = await tenant.add_user(roles=["member"])
    page = await desktop.new_page()
    await sign_in(page, site, member.email)
    await page.get_by_role("heading", name="Members").wait_for()
    assert await page.get_by_text("Invite", exact=True).count() == 0
    assert await page.get_by_role("link", name="API keys").count() == 0
    await page.get_by_role("link", name="Owner").click()
    await page.get_by_role("heading", name="Owner").wait_for()
    assert await page.get_by_role("button", name="Save roles").count() == 0
    assert await page.get_by_role("link", name="Disable").count() == 0
    response = await page.goto(f"{site}/console/{tenant.slug}/api-keys")
    assert response is not None
    assert response.status == 403


async def test_another_orgs_admin_gets_not_found(
    site: str, tenant: Tenant, other_tenant: Tenant, desktop: BrowserContext
) -> None:
    page = await desktop.new_page()
    await sign_in(page, site, other_tenant.owner.email)
    for path in ("members", f"members/{tenant.owner.id}", "api-keys", "audit", "settings"):
        response = await page.goto(f"{site}/console/{tenant.slug}/{path}")
        assert response is not None
        assert response.status == 404, path
        await page.get_by_role("heading", name="Not found").wait_for()


async def test_a_platform_admin_sees_every_org_and_creates_one(
    site: str, tenant: Tenant, runtime: Runtime, desktop: BrowserContext, shots: Path, client: httpx.AsyncClient
) -> None:
    admin = await make_platform_admin(runtime, "console-root@example.com")
    page = await desktop.new_page()
    await sign_in(page, site, admin.email)
    await page.get_by_role("heading", name="Organizations").wait_for()
    await page.get_by_role("link", name=tenant.slug.title()).wait_for()
    await snap(page, shots, "organizations")
    await page.get_by_label("Name").fill("Made In The Console")
    await page.get_by_label("Slug").fill("made-in-console")
    await page.get_by_role("button", name="Create organization").click()
    await page.wait_for_url(f"{site}/console/made-in-console/members")
    token = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": admin.email, "password": PASSWORD}
    )
    org = await client.get("/api/v1/orgs/made-in-console", headers=bearer(token.json()["access_token"]))
    assert org.json()["name"] == "Made In The Console"
    members = await client.get("/api/v1/orgs/made-in-console/users", headers=bearer(token.json()["access_token"]))
    assert [(user["email"], user["roles"]) for user in members.json()["items"]] == [(admin.email, ["owner"])]
