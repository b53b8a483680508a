"""Asking the user to sign in again (``prompt=login``, ``max_age``, an ``id_token_hint`` of someone else): a link
alone ends no session; the new sign-in replaces the old one, and only it answers the request."""

import time
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from tenantry.core.sessions.models import BrowserSession
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant
from tests.mailbox import csrf_of
from tests.oidc.flow import APP, authorize_url, code_for, query_of, redeem, register, sign_in_at

ASKING_AGAIN = pytest.mark.parametrize(
    "extra", [{"prompt": "login"}, {"max_age": "0"}], ids=["prompt_login", "max_age_0"]
)


async def _asked_again(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, extra: dict[str, str]
) -> tuple[dict[str, Any], str]:
    """A browser signed in to a client, then sent the request ``extra`` makes: the client and the sign-in
    page the answer points to."""
    registered = await register(client, root_token)
    await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    asked = await client.get(authorize_url(registered["client_id"], **extra))
    assert asked.headers["location"].startswith("/ui/sign-in?"), asked.headers["location"]
    return registered, asked.headers["location"]


@ASKING_AGAIN
async def test_a_link_asking_to_sign_in_again_ends_no_session(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, extra: dict[str, str]
) -> None:
    _, sign_in = await _asked_again(client, root_token, tenant, extra)
    assert (await client.get("/ui/account")).status_code == 200
    form = await client.get(sign_in)  # signed in, and still shown the form
    assert form.status_code == 200
    assert 'name="password"' in form.text
    assert (await client.get("/ui/account")).status_code == 200


async def test_an_id_token_hint_of_someone_else_ends_no_session(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    owner_hint = (await redeem(client, registered, code))["id_token"]
    await client.post("/ui/sign-out", data={"csrf_token": csrf_of((await client.get("/ui/account")).text)})
    await code_for(client, authorize_url(registered["client_id"]), other_tenant.owner.email)
    asked = await client.get(authorize_url(registered["client_id"], id_token_hint=owner_hint))
    assert asked.headers["location"].startswith("/ui/sign-in?")
    assert other_tenant.owner.email in (await client.get("/ui/account")).text


@ASKING_AGAIN
async def test_the_old_session_cannot_answer_a_request_that_asked_for_a_new_sign_in(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, extra: dict[str, str]
) -> None:
    _, sign_in = await _asked_again(client, root_token, tenant, extra)
    continued = query_of(sign_in)["continue"]
    skipped = await client.get(continued)  # straight back, without signing in
    assert skipped.headers["location"].startswith("/ui/sign-in?"), skipped.headers["location"]
    silent = await client.get(continued + "&prompt=none")
    assert query_of(silent.headers["location"])["error"] == "login_required"


@ASKING_AGAIN
async def test_the_new_sign_in_replaces_the_session_and_the_code_carries_its_time(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, runtime: Runtime, extra: dict[str, str]
) -> None:
    registered, sign_in = await _asked_again(client, root_token, tenant, extra)
    asked_at = int(time.time())
    async with runtime.database.transaction() as session:  # the old session began an hour ago
        an_hour_ago = utcnow() - timedelta(hours=1)
        mine = BrowserSession.user_id == tenant.owner.id
        await session.execute(update(BrowserSession).where(mine).values(created_at=an_hour_ago))
    old_cookie = client.cookies.get("tenantry_session")
    signed_in = await sign_in_at(client, sign_in, tenant.owner.email)
    assert signed_in.status_code == 303, signed_in.text
    answer = await client.get(signed_in.headers["location"])
    assert answer.headers["location"].startswith(APP), answer.headers["location"]
    tokens = await redeem(client, registered, query_of(answer.headers["location"])["code"])
    assert jwt.decode(tokens["id_token"], options={"verify_signature": False})["auth_time"] >= asked_at
    assert (await client.get("/ui/account")).status_code == 200
    client.cookies.set("tenantry_session", old_cookie or "")
    assert (await client.get("/ui/account")).status_code == 303  # the session it replaced has ended


async def _refreshed(client: httpx.AsyncClient, registered: dict[str, Any], refresh_token: str) -> httpx.Response:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await client.post("/oidc/token", data=body, auth=(registered["client_id"], registered["client_secret"]))


async def test_signing_out_after_a_new_sign_in_ends_what_applications_got_before_it(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """A new sign-in of the same user takes over the token sessions applications got from the session it
    replaces: the sign-out that follows ends them all, not only the newest session's."""
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    first = await redeem(client, registered, code)
    asked = await client.get(authorize_url(registered["client_id"], prompt="login"))
    again = await sign_in_at(client, asked.headers["location"], tenant.owner.email)
    assert again.status_code == 303, again.text
    kept = await _refreshed(client, registered, first["refresh_token"])
    assert kept.status_code == 200, kept.text  # the new sign-in ended nothing of the same user's
    page = await client.get("/ui/account")
    assert (await client.post("/ui/sign-out", data={"csrf_token": csrf_of(page.text)})).status_code == 200
    ended = await _refreshed(client, registered, kept.json()["refresh_token"])
    assert (ended.status_code, ended.json()["error"]) == (400, "invalid_grant")


async def test_another_user_signing_in_on_the_browser_ends_what_applications_got_from_the_first(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The browser is no longer the first user's: as if they signed out, their applications' token sessions
    from it end."""
    registered = await register(client, root_token)
    code = await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    first = await redeem(client, registered, code)
    page = await client.get("/ui/sign-in", params={"prompt": "login"})
    fields = {"email": other_tenant.owner.email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    assert (await client.post("/ui/sign-in", data=fields)).status_code == 303
    assert other_tenant.owner.email in (await client.get("/ui/account")).text
    ended = await _refreshed(client, registered, first["refresh_token"])
    assert (ended.status_code, ended.json()["error"]) == (400, "invalid_grant")
