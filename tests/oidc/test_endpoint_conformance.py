"""The back-channel endpoints as strict OAuth libraries read them (RFC 6749 section 5.2, RFC 6750 section 3,
RFC 8693, RFC 7662) and the public documents a browser app reads (discovery, JWKS)."""

from typing import Any

import httpx
import jwt

from tenantry.app import build_runtime, create_app
from tenantry.db.engine import Database
from tenantry.runtime import Runtime
from tests.conftest import settings_for
from tests.factories import Tenant, bearer, make_platform_admin, prove_credentials, token_for
from tests.oidc.flow import APP, authorize_url, code_for, register

TOKEN, USERINFO, INTROSPECT = "/oidc/token", "/oidc/userinfo", "/oidc/introspect"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def _auth(registered: dict[str, Any]) -> tuple[str, str]:
    return registered["client_id"], registered["client_secret"]


async def _tokens(client: httpx.AsyncClient, registered: dict[str, Any], url: str, email: str) -> dict[str, Any]:
    code = await code_for(client, url, email)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    answer = await client.post(TOKEN, data=body, auth=_auth(registered))
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_discovery_and_jwks_are_readable_from_any_origin(client: httpx.AsyncClient) -> None:
    for path in (
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ):
        answer = await client.get(path, headers={"Origin": "https://spa.example"})
        assert answer.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in answer.headers


async def test_the_provider_issuer_is_the_base_url_and_jwt_issuer_names_only_access_tokens(
    database: Database, database_url: str
) -> None:
    """OpenID Connect Discovery 4.3: discovery's issuer is the URL it is served under, and the ID token's
    ``iss`` is that issuer; ``TENANTRY_JWT_ISSUER`` is the ``iss`` of access tokens, which still verify."""
    runtime = build_runtime(settings_for(database_url, jwt_issuer="https://tokens.example"), database)
    await runtime.keyring.load()
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
        assert (meta["issuer"], meta["token_endpoint"]) == ("http://testserver", "http://testserver/oidc/token")
        admin = await make_platform_admin(runtime)
        registered = await register(http, await token_for(http, admin.email))
        tokens = await _tokens(http, registered, authorize_url(registered["client_id"]), admin.email)
        assert _claims(tokens["id_token"])["iss"] == "http://testserver"
        assert _claims(tokens["access_token"])["iss"] == "https://tokens.example"
        userinfo = await http.get(USERINFO, headers=bearer(tokens["access_token"]))
        assert (userinfo.status_code, userinfo.json()["sub"]) == (200, admin.id)
        introspected = await http.post(INTROSPECT, data={"token": tokens["access_token"]}, auth=_auth(registered))
        assert (introspected.json()["active"], introspected.json()["iss"]) == (True, "https://tokens.example")
        refresh = await http.post(INTROSPECT, data={"token": tokens["refresh_token"]}, auth=_auth(registered))
        assert (refresh.json()["iss"], refresh.json()["aud"]) == ("http://testserver", "http://testserver")
        logout = await http.get("/oidc/logout", params={"id_token_hint": tokens["id_token"]})
        assert logout.status_code == 200, logout.text


async def test_token_errors_are_json_with_a_basic_challenge_when_basic_was_used(
    client: httpx.AsyncClient, root_token: str
) -> None:
    registered = await register(client, root_token)
    body = {"grant_type": "authorization_code", "code": "x", "redirect_uri": APP}
    basic = await client.post(TOKEN, data=body, auth=(registered["client_id"], "wrong"))
    assert (basic.status_code, basic.headers["content-type"]) == (401, "application/json")
    assert basic.headers["www-authenticate"] == 'Basic realm="tenantry"'
    assert basic.json() == {"error": "invalid_client", "error_description": "client authentication failed"}
    assert (basic.headers["cache-control"], basic.headers["pragma"]) == ("no-store", "no-cache")
    posted = await client.post(TOKEN, data={**body, "client_id": registered["client_id"], "client_secret": "wrong"})
    assert (posted.status_code, "www-authenticate" in posted.headers) == (401, False)
    grant = await client.post(TOKEN, data=body, auth=_auth(registered))
    assert (grant.status_code, grant.headers["content-type"], grant.json()["error"]) == (
        400,
        "application/json",
        "invalid_grant",
    )
    twice = await client.post(
        TOKEN, data={**body, "client_secret": registered["client_secret"]}, auth=_auth(registered)
    )
    assert twice.json()["error"] == "invalid_request"
    other = await client.post(TOKEN, data={**body, "client_id": "f" * 24}, auth=_auth(registered))
    assert (other.status_code, other.json()["error"]) == (401, "invalid_client")


async def test_a_missing_grant_type_is_invalid_request_and_an_unknown_one_unsupported(
    client: httpx.AsyncClient, root_token: str
) -> None:
    """RFC 6749 section 5.2: a missing parameter is invalid_request; unsupported_grant_type names a grant type
    the server does not support."""
    registered = await register(client, root_token)
    body = {"code": "x", "redirect_uri": APP}
    for grant_type, error in (
        (None, "invalid_request"),
        ("", "invalid_request"),
        ("password", "unsupported_grant_type"),
    ):
        fields = body if grant_type is None else {**body, "grant_type": grant_type}
        answer = await client.post(TOKEN, data=fields, auth=_auth(registered))
        assert (answer.status_code, answer.json()["error"]) == (400, error), grant_type


async def test_userinfo_answers_bearer_errors_and_reads_a_token_from_a_form_body(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    tokens = await _tokens(client, registered, authorize_url(registered["client_id"]), tenant.owner.email)
    missing = await client.get(USERINFO)
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, 'Bearer realm="tenantry"')
    invalid = await client.get(USERINFO, headers=bearer("not.a.token"))
    assert invalid.status_code == 401
    assert invalid.headers["www-authenticate"].startswith('Bearer realm="tenantry", error="invalid_token"')
    assert invalid.json()["error"] == "invalid_token"
    in_body = await client.post(USERINFO, data={"access_token": tokens["access_token"]})
    assert (in_body.status_code, in_body.json()["sub"]) == (200, tenant.owner.id)
    both = await client.post(USERINFO, data={"access_token": "x"}, headers=bearer(tokens["access_token"]))
    assert both.json()["error"] == "invalid_request"

    no_openid = await _tokens(
        client, registered, authorize_url(registered["client_id"], scope="email"), tenant.owner.email
    )
    refused = await client.get(USERINFO, headers=bearer(no_openid["access_token"]))
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


async def test_userinfo_names_the_error_of_a_token_sent_in_the_body_as_of_one_in_the_header(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """RFC 6750 section 3.1: only a request with no token gets the bare challenge; a refused token, wherever
    it was sent (section 2.2: the form body), gets invalid_token, and a token sent twice invalid_request."""
    refused = await client.post(USERINFO, data={"access_token": "not.a.token"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer realm="tenantry", error="invalid_token"')
    assert refused.json()["error"] == "invalid_token"
    registered = await register(client, root_token)
    tokens = await _tokens(client, registered, authorize_url(registered["client_id"]), tenant.owner.email)
    both = await client.post(USERINFO, data={"access_token": "x"}, headers=bearer(tokens["access_token"]))
    assert both.status_code == 400
    assert both.headers["www-authenticate"].startswith('Bearer realm="tenantry", error="invalid_request"')
    assert (both.json()["error"], both.headers["cache-control"]) == ("invalid_request", "no-store")
    nothing = await client.post(USERINFO, data={"other": "field"})
    assert (nothing.status_code, nothing.headers["www-authenticate"]) == (401, 'Bearer realm="tenantry"')


async def test_a_token_of_an_org_the_user_left_is_inactive_and_userinfo_refuses_it(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    member = await tenant.add_user()
    tokens = await _tokens(client, registered, authorize_url(registered["client_id"]), member.email)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert (await client.post(INTROSPECT, data={"token": token}, auth=_auth(registered))).json()["active"]
    assert (await client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)).status_code == 200
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = await client.post(INTROSPECT, data={"token": token}, auth=_auth(registered))
        assert answer.json() == {"active": False}
    refused = await client.get(USERINFO, headers=bearer(tokens["access_token"]))
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_token")


async def test_refresh_may_narrow_the_scope_but_never_widen_it(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    tokens = await _tokens(client, registered, authorize_url(registered["client_id"]), tenant.owner.email)
    wider = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid offline_access"}
    refused = await client.post(TOKEN, data=wider, auth=_auth(registered))
    assert refused.json()["error"] == "invalid_scope"
    narrower = await client.post(TOKEN, data={**wider, "scope": "openid"}, auth=_auth(registered))
    assert narrower.status_code == 200, narrower.text
    assert (narrower.json()["scope"], _claims(narrower.json()["access_token"])["scope"]) == ("openid", "openid")
    userinfo = (await client.get(USERINFO, headers=bearer(narrower.json()["access_token"]))).json()
    assert "email" not in userinfo


async def test_id_and_access_tokens_name_one_session_which_an_org_switch_renews(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    await prove_credentials(runtime, tenant.owner.id)
    registered = await register(client, root_token, grant_types=["authorization_code", "refresh_token", EXCHANGE])
    attach = {"email": tenant.owner.email, "roles": ["member"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    url = authorize_url(registered["client_id"], organization=tenant.slug)
    tokens = await _tokens(client, registered, url, tenant.owner.email)
    sid = _claims(tokens["id_token"])["sid"]
    assert _claims(tokens["access_token"])["sid"] == sid
    introspected = await client.post(INTROSPECT, data={"token": tokens["refresh_token"]}, auth=_auth(registered))
    assert introspected.json()["sid"] == sid

    exchange = {
        "grant_type": EXCHANGE,
        "subject_token": tokens["access_token"],
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "organization": other_tenant.slug,
    }
    switched = (await client.post(TOKEN, data=exchange, auth=_auth(registered))).json()
    assert switched["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert _claims(switched["id_token"])["sid"] == _claims(switched["access_token"])["sid"] != sid
    delegation = {**exchange, "actor_token": tokens["access_token"], "actor_token_type": ACCESS_TOKEN_TYPE}
    refused = await client.post(TOKEN, data=delegation, auth=_auth(registered))
    assert refused.json()["error"] == "invalid_request"


async def test_an_org_switch_is_refused_once_a_second_factor_is_required_as_a_refresh_would_be(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    await prove_credentials(runtime, tenant.owner.id)
    registered = await register(client, root_token, grant_types=["authorization_code", "refresh_token", EXCHANGE])
    attach = {"email": tenant.owner.email, "roles": ["member"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    url = authorize_url(registered["client_id"], organization=tenant.slug)
    tokens = await _tokens(client, registered, url, tenant.owner.email)
    required = await client.patch(other_tenant.path(), json={"mfa_required": True}, headers=bearer(root_token))
    assert required.status_code == 200, required.text
    exchange = {
        "grant_type": EXCHANGE,
        "subject_token": tokens["access_token"],
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "organization": other_tenant.slug,
    }
    refused = await client.post(TOKEN, data=exchange, auth=_auth(registered))
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert "second factor is now required" in refused.json()["error_description"]


async def test_deleting_a_client_ends_its_users_tokens_at_once(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered, resource_server = await register(client, root_token), await register(client, root_token)
    tokens = await _tokens(client, registered, authorize_url(registered["client_id"]), tenant.owner.email)
    assert (await client.get(tenant.path(), headers=bearer(tokens["access_token"]))).status_code == 200
    deleted = await client.delete(f"/api/v1/clients/{registered['client_id']}", headers=bearer(root_token))
    assert deleted.status_code == 204
    assert (await client.get(tenant.path(), headers=bearer(tokens["access_token"]))).status_code == 401
    introspected = await client.post(INTROSPECT, data={"token": tokens["access_token"]}, auth=_auth(resource_server))
    assert introspected.json() == {"active": False}


async def test_a_machine_token_cannot_be_revoked_and_says_so(client: httpx.AsyncClient, tenant: Tenant) -> None:
    machine = await register(
        client, tenant.owner.token, path=tenant.path("/clients"), grant_types=["client_credentials"]
    )
    issued = (await client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=_auth(machine))).json()
    refused = await client.post("/oidc/revoke", data={"token": issued["access_token"]}, auth=_auth(machine))
    assert (refused.status_code, refused.json()["error"]) == (400, "unsupported_token_type")
    unknown = await client.post("/oidc/revoke", data={"token": "not-a-token"}, auth=_auth(machine))
    assert unknown.status_code == 200


async def test_userinfo_refuses_a_form_that_is_not_utf8_as_an_oauth_error(client: httpx.AsyncClient) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = await client.post(USERINFO, content=b"access_token=%FF", headers=form)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")
