"""``/docs`` and ``/redoc`` work with no network: assets served by the app under a CSP that allows them, the
other APIs' documents linked from the native one, and Swagger UI rendering operations in Chromium with every
request off this host refused."""

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.async_api import Browser, Route, async_playwright

from tenantry.db.engine import Database
from tenantry.settings import Settings
from tests.live_server import serve

CHROMIUM = os.environ.get("TENANTRY_TEST_CHROMIUM", "/usr/bin/chromium")
HAS_CHROMIUM = os.path.exists(CHROMIUM)
MOUNTED = ["", "/scim/v2", "/compat/telm", "/compat/eva", "/compat/akinon", "/compat/saleschat"]


@pytest.mark.parametrize("prefix", MOUNTED, ids=lambda prefix: prefix or "native")
async def test_docs_pages_load_their_assets_from_the_app_under_a_csp(client: httpx.AsyncClient, prefix: str) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        answer = await client.get(f"{prefix}{page}")
        assert answer.status_code == 200, (prefix, page)
        assert f'src="{prefix}/docs/assets/{asset}"' in answer.text
        assert "cdn" not in answer.text.lower()
        assert "https://" not in answer.text.replace("https://fastapi.tiangolo.com", "")
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy
        script = await client.get(f"{prefix}/docs/assets/{asset}")
        assert script.status_code == 200
        assert len(script.content) > 100_000


async def test_the_native_document_links_every_other_document(client: httpx.AsyncClient) -> None:
    description = (await client.get("/openapi.json")).json()["info"]["description"]
    for prefix in MOUNTED[1:]:
        assert f"]({prefix}/openapi.json)" in description
        assert (await client.get(f"{prefix}/openapi.json")).status_code == 200


@pytest.fixture
def live_url(settings: Settings, database: Database) -> Iterator[str]:
    with serve(settings) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAS_CHROMIUM and not os.environ.get("CI"):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


@pytest.mark.parametrize("page_path", ["/docs", "/redoc"])
async def test_the_docs_render_in_a_browser_with_the_network_blocked(
    browser: Browser, live_url: str, page_path: str
) -> None:
    page = await browser.new_page()
    refused: list[str] = []
    violations: list[str] = []

    async def only_this_host(route: Route) -> None:
        if route.request.url.startswith(live_url):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_host)
    # ReDoc's bundle points its "powered by" logo at its CDN: that image is refused, nothing else may be.
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security" in message.text and "Loading the image" not in message.text
            else None
        ),
    )
    await page.goto(f"{live_url}{page_path}")
    if page_path == "/docs":
        operation = page.locator(".opblock-summary-path", has_text="/api/v1/auth/token").first
    else:
        operation = page.get_by_text("/api/v1/auth/token").first
    await operation.wait_for(timeout=30_000)
    assert refused == []
    assert violations == []
    await page.close()
