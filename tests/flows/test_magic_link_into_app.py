"""A magic link made for an application (client_id + a redirect URI it registered) signs the user in and
continues into that client's authorization flow: the app gets a code, which authlib's client trades for
tokens of that user in that organization; an invitation for an application does the same once the password
is set. An unregistered redirect is a 422 naming the field."""

from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.conftest import settings_for
from tests.factories import PASSWORD, Tenant
from tests.live_server import free_port, serve
from tests.mailbox import Mailbox, csrf_of, submit
from tests.oidc.flow import APP, register


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[str]:
    port = free_port()
    with serve(settings_for(database_url, base_url=f"http://127.0.0.1:{port}"), port) as url:
        yield url


@pytest.fixture
async def browser(site: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=site) as client:
        yield client


async def _use(browser: httpx.AsyncClient, url: str) -> httpx.Response:
    token = url.split("token=")[1]
    landing = await browser.get(f"/ui/magic?token={token}")
    assert landing.status_code == 200, landing.text
    return await browser.post("/ui/magic", data={"token": token, "csrf_token": csrf_of(landing.text)})


async def test_a_magic_link_for_an_app_ends_in_the_app_with_a_code(
    site: str, browser: httpx.AsyncClient, client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    member = await tenant.add_user("linked@example.com")
    body = {"client_id": registered["client_id"], "redirect_uri": APP}
    made = await client.post(tenant.path(f"/users/{member.id}/magic-link"), json=body, headers=tenant.auth)
    assert made.status_code == 201, made.text

    used = await _use(browser, made.json()["url"])
    assert used.status_code == 303
    assert used.headers["location"].startswith("/oidc/authorize?")
    authorized = await browser.get(used.headers["location"])
    assert authorized.status_code == 303, authorized.text
    callback = authorized.headers["location"]
    assert callback.startswith(f"{APP}?code=")

    async with AsyncOAuth2Client(registered["client_id"], registered["client_secret"], redirect_uri=APP) as oauth:
        tokens = await oauth.fetch_token(f"{site}/oidc/token", authorization_response=callback)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (access["sub"], access["org_id"], access["client_id"]) == (member.id, tenant.id, registered["client_id"])


async def test_a_magic_link_refuses_an_unregistered_redirect_or_a_foreign_client(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    registered = await register(client, root_token)
    foreign = await register(client, other_tenant.owner.token, path=other_tenant.path("/clients"))
    public = await register(client, root_token, type="public")
    member = await tenant.add_user("refused@example.com")
    path = tenant.path(f"/users/{member.id}/magic-link")
    cases = [
        ({"client_id": registered["client_id"], "redirect_uri": "https://evil.example/cb"}, "redirect_uri"),
        ({"client_id": registered["client_id"]}, "redirect_uri"),
        ({"redirect_uri": APP}, "client_id"),
        ({"client_id": foreign["client_id"], "redirect_uri": APP}, "client_id"),
        ({"client_id": public["client_id"], "redirect_uri": APP}, "client_id"),
    ]
    for body, named in cases:
        refused = await client.post(path, json=body, headers=tenant.auth)
        assert refused.status_code == 422, (body, refused.text)
        assert [error["field"] for error in refused.json()["errors"]] == [named], body


async def test_a_magic_link_without_an_app_still_ends_on_my_account(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user("plain@example.com")
    made = await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)
    assert made.status_code == 201, made.text
    assert (await _use(browser, made.json()["url"])).headers["location"] == "/ui/account"


async def test_an_invitation_for_an_app_activates_then_ends_in_the_app_with_a_code(
    site: str, browser: httpx.AsyncClient, client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    registered = await register(client, root_token)
    created = await client.post(
        tenant.path("/users"), json={"email": "invited-app@example.com", "first_name": "Ina"}, headers=tenant.auth
    )
    assert created.status_code == 201, created.text
    await mailbox.one_for("invited-app@example.com")
    invitation = tenant.path(f"/users/{created.json()['id']}/invitation")
    unregistered = {"client_id": registered["client_id"], "redirect_uri": "https://app.example/other"}
    refused = await client.post(invitation, json=unregistered, headers=tenant.auth)
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["redirect_uri"]
    body = {"client_id": registered["client_id"], "redirect_uri": APP}
    assert (await client.post(invitation, json=body, headers=tenant.auth)).status_code == 202
    link = (await mailbox.one_for("invited-app@example.com")).link
    path = link.removeprefix("http://testserver")
    fields = {"token": path.split("token=")[1], "password": PASSWORD, "password_repeat": PASSWORD}
    activated = await submit(browser, path, "/ui/activate", fields)
    assert activated.status_code == 303, activated.text
    assert activated.headers["location"].startswith("/oidc/authorize?")
    callback = (await browser.get(activated.headers["location"])).headers["location"]
    assert callback.startswith(f"{APP}?code=")
    async with AsyncOAuth2Client(registered["client_id"], registered["client_secret"], redirect_uri=APP) as oauth:
        tokens = await oauth.fetch_token(f"{site}/oidc/token", authorization_response=callback)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (access["sub"], access["org_id"]) == (created.json()["id"], tenant.id)
