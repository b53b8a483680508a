"""Driving the authorization endpoint as a browser would, in process (ASGI transport)."""

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.factories import PASSWORD, bearer
from tests.mailbox import csrf_of

APP = "https://app.example/callback"
LOGGED_OUT = "https://app.example/bye"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def register(client: httpx.AsyncClient, token: str, path: str = "/api/v1/clients", **body: Any) -> dict[str, Any]:
    document = {
        "name": "Web app",
        "type": "confidential",
        "redirect_uris": [APP],
        "post_logout_redirect_uris": [LOGGED_OUT],
        **body,
    }
    created = await client.post(path, json=document, headers=bearer(token))
    assert created.status_code == 201, created.text
    registered: dict[str, Any] = created.json()
    return registered


def authorize_url(client_id: str, challenge: str | None = None, **params: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": APP, "scope": "openid email profile"}
    query.update(state="st-1", nonce="n-1")
    if challenge is not None:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    query.update(params)
    return f"/oidc/authorize?{urlencode(query)}"


async def sign_in_at(client: httpx.AsyncClient, sign_in_location: str, email: str) -> httpx.Response:
    """Post the hosted sign-in form the authorization endpoint sent the browser to; answers the redirect."""
    page = await client.get(sign_in_location)
    assert page.status_code == 200, page.text
    fields = {"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    fields.update(query_of(sign_in_location))
    fields.pop("login_hint", None)
    return await client.post("/ui/sign-in", data=fields)


async def code_for(client: httpx.AsyncClient, url: str, email: str) -> str:
    """Authorize (signing in on the way when needed) and answer the code the app receives."""
    answer = await client.get(url)
    if answer.headers.get("location", "").startswith("/ui/sign-in"):
        signed_in = await sign_in_at(client, answer.headers["location"], email)
        assert signed_in.status_code == 303, signed_in.text
        answer = await client.get(signed_in.headers["location"])
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(APP), location
    query = query_of(location)
    assert "code" in query, query
    return query["code"]


async def redeem(client: httpx.AsyncClient, registered: dict[str, Any], code: str) -> dict[str, Any]:
    """Redeem ``code`` as the confidential client ``registered``: the tokens it answers."""
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    tokens = await client.post("/oidc/token", data=body, auth=(registered["client_id"], registered["client_secret"]))
    assert tokens.status_code == 200, tokens.text
    answer: dict[str, Any] = tokens.json()
    return answer


async def app_token(client: httpx.AsyncClient, root_token: str, org_slug: str, email: str) -> tuple[str, str]:
    """A platform client registered, and the access token it redeems for ``email`` in ``org_slug`` (signing the
    browser in on the way): its client id and the token."""
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"], organization=org_slug), email)
    return registered["client_id"], (await redeem(client, registered, code))["access_token"]
