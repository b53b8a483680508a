"""Organization-owned clients: their own members only, consent the first time; machine tokens; prompts;
CORS; a client's session never becomes a first-party one."""

import httpx
import jwt

from tests.factories import Tenant, bearer
from tests.mailbox import csrf_of
from tests.oidc.flow import APP, authorize_url, code_for, query_of, register, sign_in_at

TOKEN = "/oidc/token"


async def test_org_client_asks_consent_once_and_signs_in_its_own_members_only(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, tenant.owner.token, path=tenant.path("/clients"), name="Acme tool")
    url = authorize_url(registered["client_id"])
    to_sign_in = await client.get(url)
    signed_in = await sign_in_at(client, to_sign_in.headers["location"], tenant.owner.email)
    consent = await client.get(signed_in.headers["location"])
    assert consent.status_code == 200
    assert "Allow Acme tool?" in consent.text
    silent = await client.get(authorize_url(registered["client_id"], prompt="none"))
    assert query_of(silent.headers["location"])["error"] == "consent_required"
    fields = dict(query_of(url), csrf_token=csrf_of(consent.text), decision="allow")
    allowed = await client.post("/oidc/consent", data=fields)
    assert allowed.status_code == 303
    assert query_of((await client.get(allowed.headers["location"])).headers["location"])["code"]
    # The second time no page: straight back with a code.
    assert "code" in query_of((await client.get(url)).headers["location"])

    await client.post("/ui/sign-out", data={"csrf_token": csrf_of((await client.get("/ui/account")).text)})
    outsider_url = authorize_url(registered["client_id"])
    to_sign_in = await client.get(outsider_url)
    signed_in = await sign_in_at(client, to_sign_in.headers["location"], other_tenant.owner.email)
    refused = await client.get(signed_in.headers["location"])
    assert query_of(refused.headers["location"])["error"] == "access_denied"


async def test_denying_consent_sends_access_denied(client: httpx.AsyncClient, tenant: Tenant) -> None:
    registered = await register(client, tenant.owner.token, path=tenant.path("/clients"))
    url = authorize_url(registered["client_id"])
    signed_in = await sign_in_at(client, (await client.get(url)).headers["location"], tenant.owner.email)
    consent = await client.get(signed_in.headers["location"])
    denied = await client.post("/oidc/consent", data=dict(query_of(url), csrf_token=csrf_of(consent.text)))
    assert (query_of(denied.headers["location"])["error"], denied.headers["location"].startswith(APP)) == (
        "access_denied",
        True,
    )


async def test_client_credentials_gives_a_machine_token_for_the_org_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    machine = await register(
        client, tenant.owner.token, path=tenant.path("/clients"), grant_types=["client_credentials"]
    )
    answer = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(machine["client_id"], machine["client_secret"])
    )
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["client_id"], claims["org_id"]) == (machine["client_id"],) * 2 + (tenant.id,)
    assert "refresh_token" not in answer.json()
    assert (await client.get(tenant.path("/users"), headers=bearer(answer.json()["access_token"]))).status_code == 401
    code_grant = await client.post(
        TOKEN,
        data={"grant_type": "authorization_code", "code": "x"},
        auth=(machine["client_id"], machine["client_secret"]),
    )
    assert code_grant.json()["error"] == "unauthorized_client"


async def test_prompt_login_and_max_age_ask_for_the_password_again(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    assert await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    for extra in ({"prompt": "login"}, {"max_age": "0"}):
        again = await client.get(authorize_url(registered["client_id"], **extra))
        location = again.headers["location"]
        assert location.startswith("/ui/sign-in?"), extra
        assert "prompt" not in query_of(query_of(location)["continue"])
        assert await code_for(client, authorize_url(registered["client_id"], **extra), tenant.owner.email)


async def test_select_account_shows_the_chooser_even_for_one_org(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    assert await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    chooser = await client.get(authorize_url(registered["client_id"], prompt="select_account"))
    assert chooser.status_code == 200
    assert "Which organization" in chooser.text
    assert f'value="{tenant.id}"' in chooser.text


async def test_cors_answers_only_registered_origins(client: httpx.AsyncClient, root_token: str) -> None:
    await register(client, root_token, type="public", allowed_origins=["https://spa.example"])
    allowed = await client.options(TOKEN, headers={"Origin": "https://spa.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://spa.example"
    other = await client.options(TOKEN, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_a_client_refresh_token_is_refused_by_the_first_party_endpoint(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    tokens = await client.post(
        TOKEN,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    refresh = tokens.json()["refresh_token"]
    first_party = await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert first_party.json()["error"] == "invalid_grant"


async def test_an_org_client_token_never_switches_to_another_org(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    exchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    grant_types = ["authorization_code", exchange]
    registered = await register(client, tenant.owner.token, path=tenant.path("/clients"), grant_types=grant_types)
    attach = {"email": tenant.owner.email, "roles": ["member"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    url = authorize_url(registered["client_id"])
    signed_in = await sign_in_at(client, (await client.get(url)).headers["location"], tenant.owner.email)
    consent = await client.get(signed_in.headers["location"])
    allowed = await client.post(
        "/oidc/consent", data=dict(query_of(url), csrf_token=csrf_of(consent.text), decision="allow")
    )
    code = query_of((await client.get(allowed.headers["location"])).headers["location"])["code"]
    credentials = (registered["client_id"], registered["client_secret"])
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    tokens = (await client.post(TOKEN, data=body, auth=credentials)).json()
    switched = await client.post(
        TOKEN,
        data={
            "grant_type": exchange,
            "subject_token": tokens["access_token"],
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "organization": other_tenant.slug,
        },
        auth=credentials,
    )
    assert switched.json()["error"] == "invalid_target"
    assert (await client.get(other_tenant.path(), headers=bearer(tokens["access_token"]))).status_code == 404


async def test_an_org_client_cannot_redirect_a_browser_nobody_signed_in_with_a_bad_request(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """RFC 9700 section 4.11.2: an organization's admins choose its client's redirect URIs, so the endpoint
    redirects no visitor there before they sign in; ``prompt=none`` still answers ``login_required``."""
    phishing = "https://evil.example/login"
    registered = await register(client, tenant.owner.token, path=tenant.path("/clients"), redirect_uris=[phishing])
    client_id = registered["client_id"]
    bad_requests = [
        authorize_url(client_id, redirect_uri=phishing, response_type="token"),
        authorize_url(client_id, redirect_uri=phishing, response_type=""),
        authorize_url(client_id, redirect_uri=phishing, scope="phone address"),
        authorize_url(client_id, redirect_uri=phishing, prompt="bogus"),
        authorize_url(client_id, redirect_uri=phishing, response_mode="fragment"),
        authorize_url(client_id, redirect_uri=phishing, code_challenge="x" * 43, code_challenge_method="plain"),
        authorize_url(client_id, redirect_uri=phishing, request="eyJhbGciOiJub25lIn0.e30."),
        authorize_url(client_id, redirect_uri=phishing, id_token_hint="not.an.id-token"),
        authorize_url(client_id, redirect_uri=phishing) + "&nonce=again",
    ]
    for url in bad_requests:
        answer = await client.get(url)
        assert (answer.status_code, "location" in answer.headers) == (400, False), (url, answer.headers)
        assert "This sign-in cannot continue" in answer.text
    silent = await client.get(authorize_url(client_id, redirect_uri=phishing, prompt="none"))
    assert silent.headers["location"].startswith(phishing)
    assert query_of(silent.headers["location"])["error"] == "login_required"

    to_sign_in = await client.get(authorize_url(client_id, redirect_uri=phishing))
    assert (await sign_in_at(client, to_sign_in.headers["location"], tenant.owner.email)).status_code == 303
    signed_in_error = await client.get(bad_requests[0])  # the user is known now: the error goes to the client
    assert signed_in_error.headers["location"].startswith(phishing)
    assert query_of(signed_in_error.headers["location"])["error"] == "unsupported_response_type"
