"""Token exchange (RFC 8693): only a client that authenticates may trade an access token for a new session,
and a session exchanged from another one ends with it."""

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from tenantry.core.clients.models import OAuthClient
from tenantry.core.tokens import service as refresh_tokens
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer
from tests.oidc.flow import APP, authorize_url, code_for, pkce, redeem, register

TOKEN, USERINFO = "/oidc/token", "/oidc/userinfo"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
GRANTS = ["authorization_code", "refresh_token", EXCHANGE]


def _auth(registered: dict[str, Any]) -> tuple[str, str]:
    return registered["client_id"], registered["client_secret"]


def _exchange(access_token: str, organization: str) -> dict[str, str]:
    return {
        "grant_type": EXCHANGE,
        "subject_token": access_token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "organization": organization,
    }


async def _refresh(client: httpx.AsyncClient, registered: dict[str, Any], refresh_token: str) -> httpx.Response:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await client.post(TOKEN, data=body, auth=_auth(registered))


async def test_a_public_client_may_not_exchange_tokens(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, runtime: Runtime
) -> None:
    spa = {"name": "SPA", "type": "public", "redirect_uris": [APP], "grant_types": GRANTS}
    for path, token in (("/api/v1/clients", root_token), (tenant.path("/clients"), tenant.owner.token)):
        refused = await client.post(path, json=spa, headers=bearer(token))
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "grant_types"
    registered = await register(client, root_token, type="public")
    widened = await client.patch(
        f"/api/v1/clients/{registered['client_id']}", json={"grant_types": GRANTS}, headers=bearer(root_token)
    )
    assert widened.status_code == 422, widened.text

    async with runtime.database.transaction() as session:  # registered before the rule
        await session.execute(
            update(OAuthClient).where(OAuthClient.id == registered["client_id"]).values(grant_types=GRANTS)
        )
    verifier, challenge = pkce()
    code = await code_for(client, authorize_url(registered["client_id"], challenge), tenant.owner.email)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, "code_verifier": verifier}
    tokens = (await client.post(TOKEN, data={**body, "client_id": registered["client_id"]})).json()
    exchanged = await client.post(
        TOKEN, data={**_exchange(tokens["access_token"], tenant.slug), "client_id": registered["client_id"]}
    )
    assert exchanged.status_code == 400, exchanged.text
    assert exchanged.json()["error"] == "unauthorized_client"
    assert "refresh_token" not in exchanged.json()


async def _exchanged(
    client: httpx.AsyncClient, registered: dict[str, Any], tokens: dict[str, Any], organization: str
) -> dict[str, Any]:
    answer = await client.post(TOKEN, data=_exchange(tokens["access_token"], organization), auth=_auth(registered))
    assert answer.status_code == 200, answer.text
    exchanged: dict[str, Any] = answer.json()
    return exchanged


async def _signed_in(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A confidential client that may exchange tokens, and the tokens a sign-in of the tenant's owner got it."""
    registered = await register(client, root_token, grant_types=GRANTS)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    return registered, await redeem(client, registered, code)


async def test_ending_a_session_ends_every_session_exchanged_from_it(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered, original = await _signed_in(client, root_token, tenant)
    switched = await _exchanged(client, registered, original, tenant.slug)
    exchanged = [switched, await _exchanged(client, registered, switched, tenant.slug)]

    revoked = await client.post("/oidc/revoke", data={"token": original["refresh_token"]}, auth=_auth(registered))
    assert revoked.status_code == 200
    for tokens in exchanged:
        refreshed = await _refresh(client, registered, tokens["refresh_token"])
        assert refreshed.status_code == 400, refreshed.text
        assert refreshed.json()["error"] == "invalid_grant"
        assert (await client.get(USERINFO, headers=bearer(tokens["access_token"]))).status_code == 401


async def test_ending_an_exchanged_session_leaves_the_one_it_came_from(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered, original = await _signed_in(client, root_token, tenant)
    switched = await _exchanged(client, registered, original, tenant.slug)
    revoked = await client.post("/oidc/revoke", data={"token": switched["refresh_token"]}, auth=_auth(registered))
    assert revoked.status_code == 200
    assert (await _refresh(client, registered, original["refresh_token"])).status_code == 200


async def test_an_exchanged_session_ends_no_later_than_the_one_it_came_from(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, runtime: Runtime
) -> None:
    """Exchanging starts no new clock: the exchanged session began when its parent did (its family id carries
    the parent's second), so trading tokens adds nothing to ``TENANTRY_SESSION_MAX_LIFETIME_SECONDS``."""
    registered, original = await _signed_in(client, root_token, tenant)
    switched = await _exchanged(client, registered, original, tenant.slug)
    async with runtime.database.transaction(write=False) as session:
        parent = await refresh_tokens.find(session, original["refresh_token"])
        child = await refresh_tokens.find(session, switched["refresh_token"])
    assert parent is not None
    assert child is not None
    assert child.family_id != parent.family_id
    assert child.family_id[:8] == parent.family_id[:8]
    assert child.expires_at <= parent.created_at + timedelta(seconds=runtime.settings.session_max_lifetime_seconds)
