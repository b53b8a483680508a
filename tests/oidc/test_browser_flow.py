"""Once in Chromium (Playwright): a public client with PKCE signs a user of two organizations in through
the hosted sign-in page and organization chooser, then trades the code with authlib's client."""

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from playwright.async_api import Page, Route, async_playwright

from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import Tenant, bearer, prove_credentials
from tests.live_server import free_port, serve
from tests.oidc.flow import query_of, register
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

CALLBACK = "http://localhost:9/callback"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"no Chromium at {CHROMIUM}"
)


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[str]:
    port = free_port()
    with serve(settings_for(database_url, base_url=f"http://127.0.0.1:{port}"), port) as url:
        yield url


@pytest.fixture
async def app_page(site: str) -> AsyncIterator[tuple[Page, list[str]]]:
    """A phone-sized page; the app's callback is answered by the test and its URLs recorded."""
    reached: list[str] = []

    async def callback(route: Route) -> None:
        reached.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="<h1>Signed in to the app</h1>")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        await context.route(f"{CALLBACK}*", callback)
        yield await context.new_page(), reached
        await browser.close()


async def test_spa_signs_in_with_pkce_and_the_org_chooser_in_chromium(
    site: str,
    app_page: tuple[Page, list[str]],
    client: httpx.AsyncClient,
    runtime: Runtime,
    root_token: str,
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    page, reached = app_page
    spa = await register(client, root_token, name="Acme SPA", type="public", redirect_uris=[CALLBACK])
    member = await tenant.add_user("chromium-user@example.com", roles=["admin"])
    await prove_credentials(runtime, member.id)
    attach = {"email": member.email, "roles": ["member"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201

    async with AsyncOAuth2Client(
        spa["client_id"],
        scope="openid email",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as oauth:
        verifier, nonce = generate_token(48), generate_token(16)
        url, state = oauth.create_authorization_url(f"{site}/oidc/authorize", code_verifier=verifier, nonce=nonce)
        await page.goto(url)
        await page.get_by_label("Email address").fill(member.email)
        await page.get_by_label("Password").fill("correct horse battery staple")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await page.get_by_role("heading", name="Continue to Acme SPA").wait_for()
        await page.get_by_label("Globex").check()
        await page.get_by_role("button", name="Continue").click()
        await page.get_by_role("heading", name="Signed in to the app").wait_for()
        assert len(reached) == 1
        assert query_of(reached[0])["state"] == state
        token = await oauth.fetch_token(
            f"{site}/oidc/token", authorization_response=reached[0], code_verifier=verifier, state=state
        )
    access = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert (access["sub"], access["org_id"], access["roles"]) == (member.id, other_tenant.id, ["member"])
    id_claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert id_claims["nonce"] == nonce
