"""In Chromium (Playwright): password and authenticator-app code through the OpenID provider's authorization
flow, with authlib as the client; the tokens say two factors. Then ``max_age=0`` asks for the password again."""

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from playwright.async_api import Page

from tests.factories import PASSWORD, Tenant
from tests.mfa.conftest import TotpClock, enrol, totp_clock
from tests.oidc.flow import register
from tests.oidc.test_browser_flow import CALLBACK, app_page, pytestmark, site

__all__ = ["app_page", "pytestmark", "site", "totp_clock"]


async def test_password_and_code_through_the_authorization_flow_in_chromium(
    site: str,
    app_page: tuple[Page, list[str]],
    client: httpx.AsyncClient,
    root_token: str,
    tenant: Tenant,
    totp_clock: TotpClock,
) -> None:
    page, reached = app_page
    spa = await register(client, root_token, name="Acme SPA", type="public", redirect_uris=[CALLBACK])
    member = await tenant.add_user("chromium-mfa@example.com")
    app = await enrol(client, member.token, totp_clock)

    async with AsyncOAuth2Client(
        spa["client_id"],
        scope="openid email",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as oauth:
        verifier, nonce = generate_token(48), generate_token(16)
        url, state = oauth.create_authorization_url(
            f"{site}/oidc/authorize", code_verifier=verifier, nonce=nonce, acr_values="urn:tenantry:acr:2fa"
        )
        await page.goto(url)
        await page.get_by_label("Email address").fill(member.email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await page.get_by_role("heading", name="Two-step verification").wait_for()
        await page.get_by_label("Code").fill(app.code_at(totp_clock.now))
        await page.get_by_role("button", name="Verify").click()
        await page.get_by_role("heading", name="Signed in to the app").wait_for()
        assert len(reached) == 1
        token = await oauth.fetch_token(
            f"{site}/oidc/token", authorization_response=reached[0], code_verifier=verifier, state=state
        )

        again, _ = oauth.create_authorization_url(f"{site}/oidc/authorize", code_verifier=verifier, max_age="0")
        await page.goto(again)
        await page.get_by_role("heading", name="Sign in").wait_for()  # the session is older than max_age
    id_claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert (id_claims["nonce"], id_claims["amr"], id_claims["acr"]) == (
        nonce,
        ["pwd", "otp", "mfa"],
        "urn:tenantry:acr:2fa",
    )
    access = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert (access["sub"], access["amr"], access["acr"]) == (member.id, ["pwd", "otp", "mfa"], "urn:tenantry:acr:2fa")
