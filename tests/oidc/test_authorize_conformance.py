"""The authorization and logout endpoints as OpenID Connect Core and RP-Initiated Logout word them: errors a
relying party can act on, requests sent as forms, ``id_token_hint``."""

import re
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from tenantry.core.clients.models import ClientConsent
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer, prove_credentials
from tests.mailbox import csrf_of
from tests.oidc.flow import APP, LOGGED_OUT, authorize_url, code_for, pkce, query_of, register, sign_in_at

TOKEN = "/oidc/token"


async def _error_of(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    answer = await client.get(url)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(APP), answer.headers["location"]
    return query_of(answer.headers["location"])


async def _id_token(client: httpx.AsyncClient, registered: dict[str, str], email: str) -> str:
    code = await code_for(client, authorize_url(registered["client_id"]), email)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    tokens = await client.post(TOKEN, data=body, auth=(registered["client_id"], registered["client_secret"]))
    id_token: str = tokens.json()["id_token"]
    return id_token


async def test_request_errors_go_back_to_the_client_with_the_code_the_spec_names(
    client: httpx.AsyncClient, root_token: str
) -> None:
    client_id = (await register(client, root_token))["client_id"]
    cases = {
        "invalid_request": [
            authorize_url(client_id, response_type=""),
            authorize_url(client_id, response_mode="form_post"),
            authorize_url(client_id, response_mode="fragment"),
            authorize_url(client_id) + "&nonce=again",
            # Numbers that are no whole number of ours: too long for a date, or digits of another script.
            *(authorize_url(client_id, login_after=value) for value in ("9" * 20, "3" + "0" * 17, "\u00b2")),
            authorize_url(client_id, max_age="\u00b2"),
        ],
        "request_not_supported": [authorize_url(client_id, request="eyJhbGciOiJub25lIn0.e30.")],
        "request_uri_not_supported": [authorize_url(client_id, request_uri="https://app.example/request.jwt")],
        "unsupported_response_type": [authorize_url(client_id, response_type="code id_token")],
    }
    for error, urls in cases.items():
        for url in urls:
            answer = await _error_of(client, url)
            assert (answer["error"], answer["state"], answer["iss"]) == (error, "st-1", "http://testserver"), url
    twice = await client.get(authorize_url(client_id) + f"&redirect_uri={APP}")
    assert (twice.status_code, "location" in twice.headers) == (400, False)


async def test_an_authorization_request_sent_as_a_form_is_answered_as_the_same_get(
    client: httpx.AsyncClient, root_token: str
) -> None:
    client_id = (await register(client, root_token))["client_id"]
    fields = query_of(authorize_url(client_id, prompt="none"))
    posted = await client.post("/oidc/authorize", data=fields)
    assert posted.status_code == 303
    assert query_of(posted.headers["location"]) == fields
    answer = await _error_of(client, posted.headers["location"])
    assert answer["error"] == "login_required"
    not_a_form = await client.post("/oidc/authorize", json=fields)
    assert (not_a_form.status_code, "location" in not_a_form.headers) == (400, False)


async def test_id_token_hint_of_another_user_asks_for_a_sign_in(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    owner_hint = await _id_token(client, registered, tenant.owner.email)
    assert "code" in await _error_of(
        client, authorize_url(registered["client_id"], prompt="none", id_token_hint=owner_hint)
    )
    await client.post("/ui/sign-out", data={"csrf_token": csrf_of((await client.get("/ui/account")).text)})
    await _id_token(client, registered, other_tenant.owner.email)

    silent = await _error_of(client, authorize_url(registered["client_id"], prompt="none", id_token_hint=owner_hint))
    assert silent["error"] == "login_required"
    again = await client.get(authorize_url(registered["client_id"], id_token_hint=owner_hint))
    assert again.headers["location"].startswith("/ui/sign-in?")
    assert "id_token_hint" not in query_of(query_of(again.headers["location"])["continue"])
    forged = await _error_of(client, authorize_url(registered["client_id"], id_token_hint=owner_hint[:-4] + "AAAA"))
    assert forged["error"] == "invalid_request"


async def test_logout_by_post_and_a_client_id_other_than_the_hints_is_refused(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered, other = await register(client, root_token), await register(client, root_token)
    id_token = await _id_token(client, registered, tenant.owner.email)
    mismatch = {"id_token_hint": id_token, "client_id": other["client_id"], "post_logout_redirect_uri": LOGGED_OUT}
    refused = await client.get(f"/oidc/logout?{urlencode(mismatch)}")
    assert (refused.status_code, "location" in refused.headers) == (400, False)

    fields = {**mismatch, "client_id": registered["client_id"], "state": "bye-1"}
    posted = await client.post("/oidc/logout", data=fields)
    assert posted.status_code == 303
    logged_out = await client.get(posted.headers["location"])
    assert logged_out.headers["location"] == f"{LOGGED_OUT}?state=bye-1"
    silent = await _error_of(client, authorize_url(registered["client_id"], prompt="none"))
    assert silent["error"] == "login_required"


async def test_an_org_client_asking_for_more_scopes_than_allowed_asks_consent_again(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    registered = await register(client, tenant.owner.token, path=tenant.path("/clients"))
    url = authorize_url(registered["client_id"], scope="openid")
    to_sign_in = await client.get(url)
    consent = await client.get(
        (await sign_in_at(client, to_sign_in.headers["location"], tenant.owner.email)).headers["location"]
    )
    allowed = await client.post(
        "/oidc/consent", data=dict(query_of(url), csrf_token=csrf_of(consent.text), decision="allow")
    )
    assert "code" in await _error_of(client, allowed.headers["location"])
    assert "code" in await _error_of(client, authorize_url(registered["client_id"], scope="openid", prompt="none"))

    wider = authorize_url(registered["client_id"], scope="openid offline_access")
    silent = await _error_of(
        client, authorize_url(registered["client_id"], scope="openid offline_access", prompt="none")
    )
    assert silent["error"] == "consent_required"
    again = await client.get(wider)
    assert (again.status_code, "Access while you are away" in again.text) == (200, True)
    allowed = await client.post(
        "/oidc/consent", data=dict(query_of(wider), csrf_token=csrf_of(again.text), decision="allow")
    )
    assert "code" in await _error_of(client, allowed.headers["location"])
    narrower = authorize_url(registered["client_id"], scope="offline_access openid", prompt="none")
    assert "code" in await _error_of(client, narrower)
    other = await _error_of(client, authorize_url(registered["client_id"], scope="openid email", prompt="none"))
    assert other["error"] == "consent_required"


async def test_a_native_app_may_use_any_port_of_its_loopback_redirect_uri(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    cli = await register(client, root_token, type="public", redirect_uris=["http://127.0.0.1/callback"])
    verifier, challenge = pkce()
    chosen = "http://127.0.0.1:53682/callback"
    url = authorize_url(cli["client_id"], challenge, redirect_uri=chosen)
    to_sign_in = await client.get(url)
    signed_in = await sign_in_at(client, to_sign_in.headers["location"], tenant.owner.email)
    back = await client.get(signed_in.headers["location"])
    assert back.headers["location"].startswith(f"{chosen}?code=")
    body = {
        "grant_type": "authorization_code",
        "code": query_of(back.headers["location"])["code"],
        "redirect_uri": chosen,
        "client_id": cli["client_id"],
        "code_verifier": verifier,
    }
    assert (await client.post(TOKEN, data=body)).status_code == 200
    for other in (
        "http://127.0.0.1:53682/elsewhere",
        "http://127.0.0.2:53682/callback",
        "http://x@127.0.0.1:1/callback",
    ):
        refused = await client.get(authorize_url(cli["client_id"], challenge, redirect_uri=other))
        assert (refused.status_code, "location" in refused.headers) == (400, False), other
    web = await register(client, root_token)
    moved = await client.get(authorize_url(web["client_id"], redirect_uri="https://app.example:8443/callback"))
    assert (moved.status_code, "location" in moved.headers) == (400, False)


async def test_prompt_none_says_what_a_page_would_have_asked(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    await prove_credentials(runtime, tenant.owner.id)
    attach = {"email": tenant.owner.email, "roles": ["member"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    assert await code_for(client, authorize_url(registered["client_id"], organization=tenant.slug), tenant.owner.email)

    client_id = registered["client_id"]
    choose = await _error_of(client, authorize_url(client_id, prompt="none"))
    assert choose["error"] == "account_selection_required"
    assert "code" in await _error_of(client, authorize_url(client_id, prompt="none", organization=other_tenant.slug))
    stale = await _error_of(client, authorize_url(client_id, prompt="none", organization=tenant.slug, max_age="0"))
    assert stale["error"] == "login_required"
    both = await _error_of(client, authorize_url(client_id, prompt="none select_account"))
    assert both["error"] == "invalid_request"


async def test_a_form_that_is_not_utf8_ends_on_a_page(client: httpx.AsyncClient) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/oidc/authorize", "/oidc/logout"):
        answer = await client.post(path, content=b"client_id=%FF", headers=form)
        assert (answer.status_code, answer.headers["content-type"]) == (400, "text/html; charset=utf-8"), path
        assert "location" not in answer.headers


async def test_scope_values_the_provider_does_not_know_are_ignored_and_the_rest_granted(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """OIDC Core 3.1.2.1: scope values not understood SHOULD be ignored; the token response says what was
    granted (RFC 6749 section 5.1). A value no scope could be, or nothing known at all, is invalid_scope."""
    registered = await register(client, root_token)
    code = await code_for(
        client, authorize_url(registered["client_id"], scope="openid email phone api:read"), tenant.owner.email
    )
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    tokens = await client.post(TOKEN, data=body, auth=(registered["client_id"], registered["client_secret"]))
    assert (tokens.status_code, tokens.json()["scope"]) == (200, "openid email"), tokens.text
    for scope in ("phone api:read", 'openid "quoted"', "openid caf\u00e9"):
        refused = await _error_of(client, authorize_url(registered["client_id"], scope=scope))
        assert refused["error"] == "invalid_scope", scope


async def test_consent_is_asked_and_kept_for_the_scopes_granted_not_those_ignored(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    registered = await register(client, tenant.owner.token, path=tenant.path("/clients"))
    url = authorize_url(registered["client_id"], scope="openid phone email")
    consent = await client.get(
        (await sign_in_at(client, (await client.get(url)).headers["location"], tenant.owner.email)).headers["location"]
    )
    assert consent.status_code == 200, consent.text
    assert 'name="scope" value="openid email"' in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
    allowed = await client.post("/oidc/consent", data={**fields, "scope": "openid phone email", "decision": "allow"})
    assert "code" in await _error_of(client, allowed.headers["location"])
    async with runtime.database.transaction(write=False) as session:
        kept = await session.scalar(
            select(ClientConsent.scope).where(ClientConsent.client_id == registered["client_id"])
        )
    assert kept == "openid email"
    silent = authorize_url(registered["client_id"], scope="openid email address", prompt="none")
    assert "code" in await _error_of(client, silent)
