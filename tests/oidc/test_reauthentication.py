"""Asking the user to sign in again (``prompt=login``, ``max_age``, an ``id_token_hint`` of someone else): a link
alone ends no session; the new sign-in replaces the old one, and only it answers the request."""

import time

import httpx
import jwt
import pytest

from tests.factories import Tenant
from tests.mailbox import csrf_of
from tests.oidc.flow import APP, authorize_url, code_for, query_of, register, sign_in_at

TOKEN = "/oidc/token"
ASKING_AGAIN = [{"prompt": "login"}, {"max_age": "0"}]


async def _tokens(client: httpx.AsyncClient, registered: dict[str, str], code: str) -> dict[str, str]:
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    answer = await client.post(TOKEN, data=body, auth=(registered["client_id"], registered["client_secret"]))
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


@pytest.mark.parametrize("extra", ASKING_AGAIN, ids=["prompt_login", "max_age_0"])
async def test_a_link_asking_to_sign_in_again_ends_no_session(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, extra: dict[str, str]
) -> None:
    registered = await register(client, root_token)
    await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    asked = await client.get(authorize_url(registered["client_id"], **extra))
    assert asked.headers["location"].startswith("/ui/sign-in?"), asked.headers["location"]
    assert (await client.get("/ui/account")).status_code == 200
    form = await client.get(asked.headers["location"])  # signed in, and still shown the form
    assert form.status_code == 200
    assert 'name="password"' in form.text
    assert (await client.get("/ui/account")).status_code == 200


async def test_an_id_token_hint_of_someone_else_ends_no_session(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    owner_hint = (
        await _tokens(
            client, registered, await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
        )
    )["id_token"]
    await client.post("/ui/sign-out", data={"csrf_token": csrf_of((await client.get("/ui/account")).text)})
    await code_for(client, authorize_url(registered["client_id"]), other_tenant.owner.email)
    asked = await client.get(authorize_url(registered["client_id"], id_token_hint=owner_hint))
    assert asked.headers["location"].startswith("/ui/sign-in?")
    assert other_tenant.owner.email in (await client.get("/ui/account")).text


@pytest.mark.parametrize("extra", ASKING_AGAIN, ids=["prompt_login", "max_age_0"])
async def test_the_old_session_cannot_answer_a_request_that_asked_for_a_new_sign_in(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, extra: dict[str, str]
) -> None:
    registered = await register(client, root_token)
    await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    asked = await client.get(authorize_url(registered["client_id"], **extra))
    continued = query_of(asked.headers["location"])["continue"]
    skipped = await client.get(continued)  # straight back, without signing in
    assert skipped.headers["location"].startswith("/ui/sign-in?"), skipped.headers["location"]
    silent = await client.get(continued + "&prompt=none")
    assert query_of(silent.headers["location"])["error"] == "login_required"


@pytest.mark.parametrize("extra", ASKING_AGAIN, ids=["prompt_login", "max_age_0"])
async def test_the_new_sign_in_replaces_the_session_and_the_code_carries_its_time(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, extra: dict[str, str]
) -> None:
    registered = await register(client, root_token)
    await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    old_cookie = client.cookies.get("tenantry_session")
    asked_at = int(time.time())
    asked = await client.get(authorize_url(registered["client_id"], **extra))
    signed_in = await sign_in_at(client, asked.headers["location"], tenant.owner.email)
    assert signed_in.status_code == 303, signed_in.text
    answer = await client.get(signed_in.headers["location"])
    assert answer.headers["location"].startswith(APP), answer.headers["location"]
    tokens = await _tokens(client, registered, query_of(answer.headers["location"])["code"])
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["auth_time"] >= asked_at
    assert (await client.get("/ui/account")).status_code == 200
    client.cookies.set("tenantry_session", old_cookie or "")
    assert (await client.get("/ui/account")).status_code == 303  # the session it replaced has ended
