"""The console in a real browser (Chromium driven by Playwright) against a real server: an org admin's
day, the settings (password policy, branding, webhooks, OAuth clients), a member's read-only view, another
org's admin, a platform admin. Each action's effect is checked through the API. The test also takes the
screenshots docs/console.md shows (desktop and a 390-px phone; into docs/console when
TENANTRY_CONSOLE_SCREENSHOTS=1, else a temporary folder), and checks that no page scrolls sideways on the
phone.

One browser and one server for the module.
"""

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import PASSWORD, Tenant, bearer, make_platform_admin
from tests.live_server import free_port, serve
from tests.smtp_server import smtp_server
from tests.webhook_receiver import webhook_receiver

CHROMIUM = os.environ.get("TENANTRY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"no Chromium at {CHROMIUM}"
)
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000
# A 1x1 PNG, for the logo.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


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
            webhook_allow_private_urls=True,  # the webhook receiver listens on loopback
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


async def snap(page: Page, shots: Path, name: str, *, full_page: bool = False) -> None:
    await page.screenshot(path=str(shots / f"{name}-desktop.png"), full_page=full_page)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    """Wait until ``check`` holds (the server's outbox worker delivers in the background)."""
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the condition did not hold in time")


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
    found = (await api.get(tenant.path("/users"), params={"q": "lovel"}, headers=tenant.auth)).json()["items"]
    assert [user["email"] for user in found] == [ada.email]
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
    audited = await api.get(tenant.path("/audit-events"), params={"action": "member.disabled"}, headers=tenant.auth)
    assert await page.locator("tbody tr").count() == len(audited.json()["items"]) == 1
    await page.goto(f"{base}/audit")
    await snap(page, shots, "audit")
    await page.goto(f"{base}/roles")
    await snap(page, shots, "roles")
    await page.goto(f"{base}/partners")
    await snap(page, shots, "partners")

    pages = {name: f"{base}/{name}" for name in ("members", "roles", "api-keys", "audit", "import", "partners")}
    await on_phone(browser, desktop, shots, {**pages, "member": f"{base}/members/{ada.id}"})


async def test_an_org_admin_manages_the_settings(
    site: str, tenant: Tenant, browser: Browser, desktop: BrowserContext, shots: Path
) -> None:
    api = tenant.client
    base = f"{site}/console/{tenant.slug}"
    page = await desktop.new_page()
    await sign_in(page, site, tenant.owner.email)
    await page.goto(f"{base}/settings")
    await page.get_by_role("heading", name="Settings", exact=True).wait_for()

    # The password policy, its last steps by keyboard alone.
    await page.get_by_label("Shortest password").fill("12")
    await page.get_by_label("a digit").check()
    await page.get_by_label("Blocked words").fill("acme")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Save password policy"
    await page.keyboard.press("Enter")
    await page.get_by_text("Password policy saved.").wait_for()
    policy = (await api.get(tenant.path(), headers=tenant.auth)).json()["password_policy"]
    assert (policy["min_length"], policy["require_digit"], policy["blocked_words"]) == (12, True, ["acme"])

    # Branding: a mistake is named in the error summary, then the logo and the texts are saved.
    await page.get_by_label("Colour").fill("red")
    await page.get_by_role("button", name="Save branding").click()
    await page.get_by_role("alert").get_by_text("Colour: must be a colour written #rrggbb").wait_for()
    await page.get_by_label("Display name").fill("Acme Rockets")
    await page.get_by_label("Colour").fill("#aa3300")
    await page.get_by_label("Support email address").fill("help@acme.example")
    await page.get_by_label("Logo").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": PNG})
    await page.get_by_role("button", name="Save branding").click()
    await page.get_by_text("Branding saved.").wait_for()
    brand = (await api.get(tenant.path(), headers=tenant.auth)).json()["branding"]
    assert (brand["display_name"], brand["primary_color"], brand["support_email"]) == (
        "Acme Rockets",
        "#aa3300",
        "help@acme.example",
    )
    assert brand["logo_url"]
    await page.get_by_role("img", name="The current logo").wait_for()

    with webhook_receiver() as receiver:
        # A webhook: its signing secret shown once, copied; a delivery, sent again.
        await page.get_by_text("Create a webhook").click()
        await page.get_by_label("Endpoint URL").fill(receiver.url)
        await page.locator('input[name="events"][value="user.created"]').check()
        await page.get_by_role("button", name="Create webhook").click()
        secret = await page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        await page.locator('[data-copy="webhook-secret"]').click()
        await page.locator('[data-copied-for="webhook-secret"]').get_by_text("Copied.").wait_for()
        (hook,) = (await api.get(tenant.path("/webhooks"), headers=tenant.auth)).json()["items"]
        assert (hook["url"], hook["events"], hook["enabled"]) == (receiver.url, ["user.created"], True)
        deliveries = tenant.path(f"/webhooks/{hook['id']}/deliveries")

        async def delivered(count: int) -> bool:
            found = (await api.get(deliveries, headers=tenant.auth)).json()["items"]
            return len(found) >= count and len(receiver.received) >= count

        await tenant.add_user("hooked@example.com", password=None)  # invited: no password to fit the policy
        await eventually(lambda: delivered(1))
        await page.get_by_role("link", name=f"Manage {receiver.url}").click()
        await page.get_by_role("heading", name="Recent deliveries").wait_for()
        await page.get_by_text("delivered", exact=True).wait_for()
        (attempt,) = (await api.get(deliveries, headers=tenant.auth)).json()["items"]
        await page.get_by_role("button", name=f"Send event {attempt['event_id']} again").click()
        await page.get_by_text("The event is on its way again.").wait_for()
        await eventually(lambda: delivered(2))
        assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]

        await page.get_by_role("button", name="Disable", exact=True).click()
        await page.get_by_text("The webhook is disabled: no events are delivered to it.").wait_for()
        assert (await api.get(tenant.path(f"/webhooks/{hook['id']}"), headers=tenant.auth)).json()["enabled"] is False
        await page.get_by_role("button", name="Enable", exact=True).click()
        await page.get_by_text("The webhook is enabled: events are delivered to it again.").wait_for()
        assert (await api.get(tenant.path(f"/webhooks/{hook['id']}"), headers=tenant.auth)).json()["enabled"] is True
        await page.get_by_role("button", name="Rotate the signing secret").click()
        rotated = await page.get_by_label("Signing secret", exact=True).input_value()
        assert rotated.startswith("whsec_")
        assert rotated != secret
        await snap(page, shots, "webhook")
    webhook_page = f"{base}/settings/webhooks/{hook['id']}"

    # An OAuth client: its secret shown once and accepted by the token endpoints; rotated; deleted.
    await page.goto(f"{base}/settings")
    await page.get_by_text("Register a client").click()
    await page.get_by_label("Client name").fill("Billing")
    await page.get_by_label("Redirect URIs").fill("https://billing.example/callback")
    await page.get_by_role("button", name="Register client").click()
    client_id = await page.get_by_label("Client ID").input_value()
    client_secret = await page.get_by_label("Client secret").input_value()
    registered = (await api.get(tenant.path(f"/clients/{client_id}"), headers=tenant.auth)).json()
    assert (registered["name"], registered["type"], registered["redirect_uris"]) == (
        "Billing",
        "confidential",
        ["https://billing.example/callback"],
    )
    introspect = {"token": "not-a-token"}
    assert (await api.post("/oidc/introspect", data=introspect, auth=(client_id, client_secret))).status_code == 200
    await snap(page, shots, "settings", full_page=True)
    await page.get_by_role("button", name="Rotate the secret of Billing").click()
    new_secret = await page.get_by_label("Client secret").input_value()
    assert new_secret != client_secret
    assert (await api.post("/oidc/introspect", data=introspect, auth=(client_id, new_secret))).status_code == 200

    # Dark mode follows the system; the settings and webhook pages fit a phone.
    await page.emulate_media(color_scheme="dark")
    await page.goto(f"{base}/settings")
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    await snap(page, shots, "settings-dark")
    await page.emulate_media(color_scheme="light")
    await on_phone(browser, desktop, shots, {"settings": f"{base}/settings", "webhook": webhook_page})

    # Deleting asks first.
    await page.get_by_role("link", name="Delete Billing").click()
    await page.get_by_role("button", name="Delete client").click()
    await page.get_by_text("The client is deleted.").wait_for()
    assert (await api.get(tenant.path(f"/clients/{client_id}"), headers=tenant.auth)).status_code == 404
    await page.goto(webhook_page)
    await page.get_by_role("link", name="Delete", exact=True).click()
    await page.get_by_role("heading", name=f"Delete the webhook {hook['url']}").wait_for()
    await page.get_by_role("button", name="Delete webhook").click()
    await page.get_by_text("The webhook is deleted.").wait_for()
    assert (await api.get(tenant.path(f"/webhooks/{hook['id']}"), headers=tenant.auth)).status_code == 404


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
    await page.get_by_role("link", name="Roles").click()
    await page.get_by_role("heading", name="Roles").wait_for()
    assert await page.get_by_role("button", name="Create role").count() == 0
    assert await page.get_by_role("link", name="Settings").count() == 0
    for path in ("api-keys", "settings", "audit"):
        response = await page.goto(f"{site}/console/{tenant.slug}/{path}")
        assert response is not None
        assert response.status == 403, path
    for path in ("/api-keys", "/webhooks", "/audit-events"):  # the API refuses the member the same
        assert (await tenant.client.get(tenant.path(path), headers=member.auth)).status_code == 403, path


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
    assert (await tenant.client.get(tenant.path("/users"), headers=other_tenant.owner.auth)).status_code == 404


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
