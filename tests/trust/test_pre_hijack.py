"""An organization's account for an address it does not own must not become the address owner's account.

OPEN (found by the red-team pass of issue 14, not fixed yet): an organization creates a user for an address
it does not own, with a password it knows (and may even assert ``email_verified``). When another
organization later invites that address, the invitation is accepted (by the real owner through the mailed
link, or by the creator itself on "My account", signed in with its password) and the creator's password
then signs in to the inviting organization as its new member. The fix needs the account to know whether
its credentials were chosen by the proven owner of the address (reset, activation, verification or join
link), and acceptance to require it (the mailed link taking ownership: sessions end, the password and
factors others set are dropped, the owner chooses a password). Each test below passes once that holds.
"""

import httpx
import pytest

from tests.console.test_pages import sign_in
from tests.factories import PASSWORD, Tenant, bearer, make_tenant
from tests.mailbox import Mailbox, csrf_of, submit

CEO = "ceo@bigcorp.example"
OPEN = pytest.mark.xfail(strict=True, reason="open: accounts pre-made by another organization (see module)")


async def _pre_made(client: httpx.AsyncClient, root_token: str, bigcorp: Tenant) -> None:
    evil = await make_tenant(client, root_token, "evil")
    made = {"email": CEO, "first_name": "C", "password": PASSWORD, "email_verified": True}
    assert (await client.post(evil.path("/users"), json=made, headers=evil.auth)).status_code == 201
    invited = await client.post(bigcorp.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=bigcorp.auth)
    assert invited.json()["membership_status"] == "invited"


async def _creator_acts_in(client: httpx.AsyncClient, bigcorp: Tenant) -> int:
    client.cookies.clear()
    signed_in = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": CEO, "password": PASSWORD}
    )
    if signed_in.status_code != 200:
        return signed_in.status_code
    return (await client.get(bigcorp.path("/users"), headers=bearer(signed_in.json()["access_token"]))).status_code


@OPEN
async def test_the_owner_accepting_by_the_mailed_link_does_not_let_the_creator_in(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    await mailbox.deliver()
    await _pre_made(client, root_token, tenant)
    link = (await mailbox.one_for(CEO)).link.removeprefix("http://testserver")
    assert (await submit(client, link, "/ui/join", {"token": link.split("token=")[1], "answer": "accept"})).is_success
    assert await _creator_acts_in(client, tenant) != 200


@OPEN
async def test_the_creator_cannot_accept_on_my_account(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    await _pre_made(client, root_token, tenant)
    await sign_in(client, CEO)
    page = await client.get("/ui/account")
    form = {"org": tenant.id, "answer": "accept", "csrf_token": csrf_of(page.text)}
    await client.post("/ui/account/invitations", data=form)
    assert await _creator_acts_in(client, tenant) != 200
