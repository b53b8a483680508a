"""A browser app reads the OpenID provider's error answers too: the token, userinfo and revocation
endpoints' errors carry CORS headers for a registered origin, never for another."""

import httpx

from tests.factories import Tenant
from tests.oidc.flow import APP, authorize_url, code_for, register

SPA = "https://spa.example"
EVIL = "https://evil.example"


def _allowed(answer: httpx.Response) -> str | None:
    return answer.headers.get("access-control-allow-origin")


async def test_token_errors_carry_cors_for_the_clients_origin(client: httpx.AsyncClient, root_token: str) -> None:
    spa = await register(client, root_token, type="public", allowed_origins=[SPA])
    bad_code = {"grant_type": "authorization_code", "client_id": spa["client_id"], "code": "nope", "redirect_uri": APP}
    refused = await client.post("/oidc/token", data=bad_code, headers={"Origin": SPA})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert _allowed(refused) == SPA
    assert refused.headers["vary"] == "Origin"
    assert _allowed(await client.post("/oidc/token", data=bad_code, headers={"Origin": EVIL})) is None
    unknown = dict(bad_code, client_id="no-such-client")
    unknown_client = await client.post("/oidc/token", data=unknown, headers={"Origin": SPA})
    assert unknown_client.json()["error"] == "invalid_client"
    assert _allowed(unknown_client) == SPA
    grant = await client.post("/oidc/token", data=dict(bad_code, grant_type="password"), headers={"Origin": SPA})
    assert grant.json()["error"] == "unsupported_grant_type"
    assert _allowed(grant) == SPA


async def test_an_origin_of_another_client_is_not_answered_once_the_client_is_known(
    client: httpx.AsyncClient, root_token: str
) -> None:
    await register(client, root_token, type="public", allowed_origins=[SPA])
    other = await register(client, root_token, type="public", allowed_origins=["https://other.example"])
    bad_code = {
        "grant_type": "authorization_code",
        "client_id": other["client_id"],
        "code": "nope",
        "redirect_uri": APP,
    }
    refused = await client.post("/oidc/token", data=bad_code, headers={"Origin": SPA})
    assert refused.status_code == 400
    assert _allowed(refused) is None


async def test_userinfo_and_revocation_errors_carry_cors(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    spa = await register(client, root_token, allowed_origins=[SPA])
    no_token = await client.get("/oidc/userinfo", headers={"Origin": SPA})
    assert no_token.status_code == 401
    assert _allowed(no_token) == SPA
    bad_token = await client.get("/oidc/userinfo", headers={"Origin": SPA, "Authorization": "Bearer not-a-token"})
    assert bad_token.status_code == 401
    assert _allowed(bad_token) == SPA
    assert _allowed(await client.get("/oidc/userinfo", headers={"Origin": EVIL})) is None

    auth = (spa["client_id"], spa["client_secret"])
    missing = await client.post("/oidc/revoke", data={}, auth=auth, headers={"Origin": SPA})
    assert missing.status_code == 400
    assert _allowed(missing) == SPA
    wrong_secret = await client.post("/oidc/revoke", data={"token": "x"}, auth=(spa["client_id"], "wrong"))
    assert _allowed(wrong_secret) is None  # no Origin, no CORS

    code = await code_for(client, authorize_url(spa["client_id"]), tenant.owner.email)
    tokens = await client.post(
        "/oidc/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP}, auth=auth
    )
    assert tokens.status_code == 200, tokens.text
    answered = await client.get(
        "/oidc/userinfo", headers={"Origin": SPA, "Authorization": f"Bearer {tokens.json()['access_token']}"}
    )
    assert answered.status_code == 200
    assert _allowed(answered) == SPA
