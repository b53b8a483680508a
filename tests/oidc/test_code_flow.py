"""The authorization code flow in process: codes, PKCE, single use, organization binding."""

import asyncio
import base64
import hashlib

import httpx
import jwt
import pytest
from sqlalchemy import select, update

from tenantry.core.clients.models import AuthorizationCode
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, bearer
from tests.mailbox import csrf_of
from tests.oidc.flow import APP, authorize_url, code_for, pkce, query_of, register

TOKEN = "/oidc/token"


async def _redeem(client: httpx.AsyncClient, registered: dict[str, str], code: str, **fields: str) -> httpx.Response:
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, **fields}
    return await client.post(TOKEN, data=body, auth=(registered["client_id"], registered["client_secret"]))


async def test_code_flow_gives_org_bound_tokens(client: httpx.AsyncClient, root_token: str, tenant: Tenant) -> None:
    registered = await register(client, root_token)
    verifier, challenge = pkce()
    code = await code_for(client, authorize_url(registered["client_id"], challenge), tenant.owner.email)
    tokens = await _redeem(client, registered, code, code_verifier=verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    assert (claims["org_id"], claims["org_slug"], claims["roles"]) == (tenant.id, "acme", ["owner"])
    assert "users:read" in claims["permissions"]
    assert claims["client_id"] == registered["client_id"]
    assert all(isinstance(claims[name], int) for name in ("exp", "nbf", "auth_time"))
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert (id_claims["aud"], id_claims["nonce"], id_claims["email"]) == (
        registered["client_id"],
        "n-1",
        tenant.owner.email,
    )
    assert jwt.get_unverified_header(body["id_token"])["alg"] == "RS256"
    assert (await client.get(tenant.path(), headers=bearer(body["access_token"]))).status_code == 200


async def test_code_reuse_is_refused_and_revokes_what_it_issued(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    first = await _redeem(client, registered, code)
    assert first.status_code == 200
    again = await _redeem(client, registered, code)
    assert again.json()["error"] == "invalid_grant"
    access, refresh = first.json()["access_token"], first.json()["refresh_token"]
    assert (await client.get("/api/v1/me", headers=bearer(access))).status_code == 401
    refreshed = await client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert refreshed.json()["error"] == "invalid_grant"


async def test_a_code_redeemed_twice_at_once_revokes_what_it_issued_like_one_redeemed_twice(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """Three rounds, as two redemptions may also happen to run one after the other."""
    registered = await register(client, root_token)
    for _ in range(3):
        code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
        answers = await asyncio.gather(_redeem(client, registered, code), _redeem(client, registered, code))
        assert sorted(answer.status_code for answer in answers) == [200, 400], [answer.text for answer in answers]
        won = next(answer for answer in answers if answer.status_code == 200).json()
        assert (await client.get("/api/v1/me", headers=bearer(won["access_token"]))).status_code == 401
        refreshed = await client.post(
            TOKEN,
            data={"grant_type": "refresh_token", "refresh_token": won["refresh_token"]},
            auth=(registered["client_id"], registered["client_secret"]),
        )
        assert refreshed.json()["error"] == "invalid_grant"


async def test_pkce_refusals(client: httpx.AsyncClient, root_token: str, tenant: Tenant) -> None:
    spa = await register(client, root_token, type="public")
    plain = await client.get(authorize_url(spa["client_id"], code_challenge="x" * 43, code_challenge_method="plain"))
    assert query_of(plain.headers["location"])["error"] == "invalid_request"
    missing = await client.get(authorize_url(spa["client_id"]))
    assert query_of(missing.headers["location"])["error"] == "invalid_request"
    verifier, challenge = pkce()
    code = await code_for(client, authorize_url(spa["client_id"], challenge), tenant.owner.email)
    wrong = await client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP,
            "client_id": spa["client_id"],
            "code_verifier": pkce()[0],
        },
    )
    assert wrong.json()["error"] == "invalid_grant"
    right = await client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP,
            "client_id": spa["client_id"],
            "code_verifier": verifier,
        },
    )
    assert right.status_code == 200, right.text


async def test_unregistered_or_altered_redirect_uri_shows_a_page_and_never_redirects(
    client: httpx.AsyncClient, root_token: str
) -> None:
    registered = await register(client, root_token)
    for uri in ("https://evil.example/callback", f"{APP}/x", f"{APP}?a=1", APP.upper()):
        answer = await client.get(authorize_url(registered["client_id"], redirect_uri=uri))
        assert answer.status_code == 400, uri
        assert "location" not in answer.headers
        assert "redirect_uri" in answer.text
    unknown = await client.get(authorize_url("f" * 24))
    assert unknown.status_code == 400
    assert "location" not in unknown.headers


async def test_code_of_another_client_wrong_secret_and_expired_code_are_refused(
    client: httpx.AsyncClient, root_token: str, runtime: Runtime, tenant: Tenant
) -> None:
    first, second = await register(client, root_token), await register(client, root_token)
    code = await code_for(client, authorize_url(first["client_id"]), tenant.owner.email)
    assert (await _redeem(client, second, code)).json()["error"] == "invalid_grant"
    wrong_secret = {**first, "client_secret": "tcs_wrong"}
    refused = await _redeem(client, wrong_secret, code)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    async with runtime.database.transaction() as session:
        await session.execute(update(AuthorizationCode).values(expires_at=utcnow()))
    assert (await _redeem(client, first, code)).json()["error"] == "invalid_grant"


async def test_prompt_none_without_session_is_login_required(client: httpx.AsyncClient, root_token: str) -> None:
    registered = await register(client, root_token)
    answer = await client.get(authorize_url(registered["client_id"], prompt="none"))
    query = query_of(answer.headers["location"])
    assert (query["error"], query["state"]) == ("login_required", "st-1")


async def test_organization_the_user_is_not_an_active_member_of_is_refused(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    assert code
    answer = await client.get(authorize_url(registered["client_id"], organization=other_tenant.slug))
    assert query_of(answer.headers["location"])["error"] == "access_denied"


ID_TOKEN_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "at_hash"}
PROFILE_CLAIMS = {"email", "email_verified", "name", "given_name", "family_name", "locale"}
ACCESS_TOKEN_CLAIMS = {"iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti", "sid", "auth_time"}
ORG_CLAIMS = {"org_id", "org_slug", "roles", "permissions"}


def _times_are_integers(claims: dict[str, object]) -> bool:
    return all(type(claims[name]) is int for name in ("iat", "exp", "auth_time") if name in claims)


async def test_id_and_access_tokens_carry_every_claim_issue_16_lists_and_refresh_keeps_them(
    client: httpx.AsyncClient, root_token: str, runtime: Runtime, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    member = await tenant.add_user(roles=["admin"], locale="fr")
    code = await code_for(client, authorize_url(registered["client_id"]), member.email)
    issued = (await _redeem(client, registered, code)).json()
    refreshed = await client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert refreshed.status_code == 200, refreshed.text
    first = jwt.decode(issued["id_token"], options={"verify_signature": False})
    for tokens in (issued, refreshed.json()):
        id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
        access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert jwt.get_unverified_header(tokens["id_token"])["alg"] == "RS256"
        assert {key: jwt.get_unverified_header(tokens["access_token"])[key] for key in ("alg", "typ")} == {
            "alg": "EdDSA",
            "typ": "at+jwt",
        }
        assert id_claims.keys() >= (ID_TOKEN_CLAIMS - {"nonce"}) | PROFILE_CLAIMS
        assert access.keys() >= ACCESS_TOKEN_CLAIMS | ORG_CLAIMS
        assert _times_are_integers(id_claims)
        assert _times_are_integers(access)
        assert (id_claims["iss"], id_claims["sub"], id_claims["aud"]) == (
            runtime.settings.oidc_issuer,
            member.id,
            registered["client_id"],
        )
        assert (id_claims["amr"], id_claims["locale"], id_claims["name"]) == (["pwd"], "fr", "Test User")
        assert (id_claims["sid"], id_claims["auth_time"]) == (first["sid"], first["auth_time"])
        assert (access["sub"], access["client_id"], access["scope"]) == (
            member.id,
            registered["client_id"],
            "openid email profile",
        )
        assert (access["org_id"], access["org_slug"], access["roles"]) == (tenant.id, tenant.slug, ["admin"])
        assert "users:read" in access["permissions"]
        assert access["auth_time"] == id_claims["auth_time"]
        digest = hashlib.sha256(tokens["access_token"].encode()).digest()
        assert id_claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert first["nonce"] == "n-1"


async def _change_password(client: httpx.AsyncClient, tenant: Tenant) -> httpx.Response:
    fields = {"current_password": PASSWORD, "new_password": "another quite long passphrase 42"}
    return await client.post("/api/v1/me/password", json=fields, headers=tenant.auth)


async def _end_every_session(client: httpx.AsyncClient, tenant: Tenant) -> httpx.Response:
    return await client.post("/api/v1/me/sessions/revoke", headers=tenant.auth)


async def _rp_logout(client: httpx.AsyncClient, tenant: Tenant, id_token: str) -> httpx.Response:
    return await client.get("/oidc/logout", params={"id_token_hint": id_token})


@pytest.mark.parametrize("ending", ["new password", "every session ended", "RP-initiated logout"])
async def test_a_code_held_back_ends_with_the_sign_in_it_was_issued_for(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, ending: str
) -> None:
    """A code issued before the user ended their sessions (or before the browser session it came from signed
    out) buys no tokens afterwards: someone holding a stolen cookie could keep one unredeemed and outlive a
    new password."""
    registered = await register(client, root_token)
    first = (
        await _redeem(
            client, registered, await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
        )
    ).json()
    held_back = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    if ending == "new password":
        ended = await _change_password(client, tenant)
    elif ending == "every session ended":
        ended = await _end_every_session(client, tenant)
    else:
        ended = await _rp_logout(client, tenant, first["id_token"])
    assert ended.status_code in (200, 204), ended.text
    late = await _redeem(client, registered, held_back)
    assert late.status_code == 400, late.text
    assert late.json()["error"] == "invalid_grant"
    # Refused, not spent: the code's row is as it was (no tokens were issued from it).
    async with runtime.database.transaction(write=False) as session:
        row = (await session.scalars(select(AuthorizationCode).where(AuthorizationCode.family_id.is_not(None)))).all()
    assert len(row) == 1  # only the first code issued tokens


async def test_a_code_of_a_browser_session_still_signed_in_is_redeemed_after_another_session_ends(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """Ending one API session (the owner's own first-party token) leaves the browser's codes alone."""
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    assert (await client.post("/api/v1/auth/logout", headers=tenant.auth)).status_code in (200, 204)
    assert (await _redeem(client, registered, code)).status_code == 200


async def test_signing_the_browser_out_ends_the_token_sessions_applications_got_from_it(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """The hosted pages' sign-out is the user's own "sign me out": as with an application's RP-initiated
    logout, the token sessions applications were given from that browser session end with it (refresh and
    access tokens alike). Tokens the user got another way (the API's own sign-in) go on."""
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    tokens = (await _redeem(client, registered, code)).json()
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 200
    page = await client.get("/ui/account")
    assert (await client.post("/ui/sign-out", data={"csrf_token": csrf_of(page.text)})).status_code == 200
    assert (await client.get("/ui/account")).status_code == 303
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")
    assert (await client.get("/api/v1/me", headers=tenant.auth)).status_code == 200
