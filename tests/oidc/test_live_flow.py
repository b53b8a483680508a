"""The whole OpenID Connect flow with a real OAuth client library (authlib's httpx client) against a live
server, through the hosted pages: discovery, PKCE, sign-in, org chooser, code, tokens, ID token checked
against the JWKS, userinfo, refresh, org switch, revocation, introspection, logout."""

import base64
import hashlib
import html
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import Tenant, bearer, prove_credentials
from tests.live_server import free_port, serve
from tests.oidc.flow import APP, LOGGED_OUT, query_of, register, sign_in_at

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[str]:
    port = free_port()
    with serve(settings_for(database_url, base_url=f"http://127.0.0.1:{port}"), port) as url:
        yield url


@pytest.fixture
async def browser(site: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=site) as client:
        yield client


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


async def _choose(browser: httpx.AsyncClient, chooser: httpx.Response, org_id: str) -> httpx.Response:
    """Pick ``org_id`` on the hosted organization chooser (a GET form back to the authorization endpoint)."""
    assert chooser.status_code == 200, chooser.text
    assert f'value="{org_id}"' in chooser.text
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(chooser.text)}
    return await browser.get(f"/oidc/authorize?{urlencode({**fields, 'organization': org_id})}")


async def test_sign_in_with_authlib_through_the_hosted_pages(
    site: str,
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    runtime: Runtime,
    root_token: str,
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    registered = await register(client, root_token, grant_types=["authorization_code", "refresh_token", EXCHANGE])
    client_id, secret = registered["client_id"], registered["client_secret"]
    member = await tenant.add_user("two-orgs@example.com", roles=["admin"])
    await prove_credentials(runtime, member.id)
    attached = await client.post(
        other_tenant.path("/members"), json={"email": member.email, "roles": ["member"]}, headers=bearer(root_token)
    )
    assert attached.status_code == 201, attached.text

    async with AsyncOAuth2Client(
        client_id, secret, scope="openid email profile", redirect_uri=APP, code_challenge_method="S256"
    ) as oauth:
        meta = (await oauth.request("GET", f"{site}/.well-known/openid-configuration", withhold_token=True)).json()
        assert meta["issuer"] == site
        verifier, nonce = generate_token(48), generate_token(16)
        url, state = oauth.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)

        to_sign_in = await browser.get(url)
        assert to_sign_in.headers["location"].startswith("/ui/sign-in?")
        signed_in = await sign_in_at(browser, to_sign_in.headers["location"], member.email)
        chooser = await browser.get(signed_in.headers["location"])
        assert "Which organization" in chooser.text
        callback = (await _choose(browser, chooser, tenant.id)).headers["location"]
        assert callback.startswith(APP)
        assert query_of(callback)["iss"] == site

        token = await oauth.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
        )
        signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
        id_claims = jwt.decode(token["id_token"], signing_key, algorithms=["RS256"], audience=client_id, issuer=site)
        assert (id_claims["sub"], id_claims["nonce"], id_claims["email"]) == (member.id, nonce, member.email)
        assert id_claims["at_hash"] == _at_hash(token["access_token"])
        access = jwt.decode(token["access_token"], options={"verify_signature": False})
        assert (access["org_id"], access["roles"]) == (tenant.id, ["admin"])

        userinfo = (await oauth.get(meta["userinfo_endpoint"])).json()
        assert (userinfo["sub"], userinfo["email"], userinfo["org_id"]) == (member.id, member.email, tenant.id)
        assert (await oauth.get(f"{site}{tenant.path()}")).status_code == 200
        assert (await oauth.get(f"{site}{other_tenant.path()}")).status_code == 404

        refreshed = await oauth.refresh_token(meta["token_endpoint"])
        assert refreshed["refresh_token"] != token["refresh_token"]

        switched = await _switch(site, meta, registered, refreshed["access_token"], other_tenant.slug)
        switched_claims = jwt.decode(switched["access_token"], options={"verify_signature": False})
        assert (switched_claims["org_id"], switched_claims["roles"]) == (other_tenant.id, ["member"])
        outsider_org = await _switch(site, meta, registered, refreshed["access_token"], "no-such-org", status=400)
        assert outsider_org["error"] == "invalid_target"

        await oauth.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"])
        introspected = await oauth.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"])
        assert introspected.json() == {"active": False}
        exchanged = await oauth.introspect_token(meta["introspection_endpoint"], token=switched["access_token"])
        assert exchanged.json() == {"active": False}  # a session exchanged from the revoked one ends with it

    await _logout(browser, meta, id_claims, token["id_token"], client_id)


async def test_reusing_a_rotated_refresh_token_through_authlib_ends_the_whole_session(
    site: str, browser: httpx.AsyncClient, client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    client_id, secret = registered["client_id"], registered["client_secret"]
    async with AsyncOAuth2Client(
        client_id, secret, scope="openid", redirect_uri=APP, code_challenge_method="S256"
    ) as oauth:
        meta = (await oauth.request("GET", f"{site}/.well-known/openid-configuration", withhold_token=True)).json()
        verifier = generate_token(48)
        url, state = oauth.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, organization=tenant.slug
        )
        signed_in = await sign_in_at(browser, (await browser.get(url)).headers["location"], tenant.owner.email)
        callback = (await browser.get(signed_in.headers["location"])).headers["location"]
        first = await oauth.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
        )
        second = await oauth.refresh_token(meta["token_endpoint"])
        assert second["refresh_token"] != first["refresh_token"]
        assert (await oauth.get(f"{site}{tenant.path()}")).status_code == 200

        with pytest.raises(AsyncOAuth2Client.oauth_error_class) as reused:
            await oauth.refresh_token(meta["token_endpoint"], refresh_token=first["refresh_token"])
        assert reused.value.error == "invalid_grant"
        with pytest.raises(AsyncOAuth2Client.oauth_error_class) as rotated:
            await oauth.refresh_token(meta["token_endpoint"], refresh_token=second["refresh_token"])
        assert rotated.value.error == "invalid_grant"

        assert (await oauth.get(f"{site}{tenant.path()}")).status_code == 401
        introspected = await oauth.introspect_token(meta["introspection_endpoint"], token=second["access_token"])
        assert introspected.json() == {"active": False}


async def _switch(
    site: str, meta: dict[str, Any], registered: dict[str, Any], access_token: str, org: str, status: int = 200
) -> dict[str, Any]:
    """RFC 8693 token exchange: the same user's token for another organization."""
    async with httpx.AsyncClient() as plain:
        answer = await plain.post(
            meta["token_endpoint"],
            data={
                "grant_type": EXCHANGE,
                "subject_token": access_token,
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "organization": org,
            },
            auth=(registered["client_id"], registered["client_secret"]),
        )
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _logout(
    browser: httpx.AsyncClient, meta: dict[str, Any], id_claims: dict[str, Any], id_token: str, client_id: str
) -> None:
    """RP-initiated logout ends the session and goes only to a registered URI."""
    unregistered = await browser.get(
        meta["end_session_endpoint"],
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert unregistered.status_code == 400
    assert "location" not in unregistered.headers
    logged_out = await browser.get(
        meta["end_session_endpoint"],
        params={"id_token_hint": id_token, "post_logout_redirect_uri": LOGGED_OUT, "state": "bye-1"},
    )
    assert logged_out.headers["location"] == f"{LOGGED_OUT}?state=bye-1"
    silent = await browser.get(
        meta["authorization_endpoint"],
        params={"response_type": "code", "client_id": client_id, "redirect_uri": APP, "prompt": "none"},
    )
    assert query_of(silent.headers["location"])["error"] == "login_required"
    assert id_claims["sid"]
