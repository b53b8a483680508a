"""No organization chooses where a signed-in browser's code goes (finding 1 of issue 14).

The organization-level ``login_redirect_url`` and its bare code grant are gone: setting one is refused,
every hosted sign-in lands on "My account", and the token endpoint trades no such code.
"""

from urllib.parse import parse_qsl

import httpx

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant
from tests.mailbox import submit
from tests.snapshots import every_row

ATTACKER = "https://attacker.example/collect"


async def _sign_in(client: httpx.AsyncClient, email: str, query: str) -> httpx.Response:
    fields = {"email": email, "password": PASSWORD, **dict(parse_qsl(query))}
    return await submit(client, f"/ui/sign-in?{query}", "/ui/sign-in", fields)


async def test_an_org_cannot_set_a_login_redirect(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    before = await every_row(runtime)
    for value in (ATTACKER, None):
        refused = await client.patch(tenant.path(), json={"login_redirect_url": value}, headers=tenant.auth)
        assert refused.status_code == 422
        assert [error["field"] for error in refused.json()["errors"]] == ["login_redirect_url"]
    assert await every_row(runtime) == before
    assert "login_redirect_url" not in (await client.get(tenant.path(), headers=tenant.auth)).json()["settings"]


async def test_a_signed_in_browser_is_never_sent_elsewhere_with_a_code(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member = await tenant.add_user("alice@example.com")
    signed_in = await _sign_in(client, member.email, f"org={tenant.slug}&state=x")
    assert signed_in.headers["location"] == "/ui/account"
    before = await every_row(runtime)
    again = await client.get(f"/ui/sign-in?org={tenant.slug}&state=x")
    assert again.status_code == 303
    assert again.headers["location"] == "/ui/account"
    assert await every_row(runtime) == before  # a plain GET issues nothing


async def test_a_magic_link_for_an_org_lands_on_my_account(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user("magic-alice@example.com")
    link = (await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    landed = await submit(client, link, "/ui/magic", {"token": link.split("token=")[1]})
    assert landed.status_code == 303
    assert landed.headers["location"] == "/ui/account"


async def test_the_token_endpoint_has_no_bare_code_grant(client: httpx.AsyncClient, runtime: Runtime) -> None:
    before = await every_row(runtime)
    for body in ({"grant_type": "authorization_code", "code": "anything"}, {"grant_type": "authorization_code"}):
        refused = await client.post("/api/v1/auth/token", data=body)
        assert refused.status_code == 400
        assert refused.json()["error"] == "unsupported_grant_type"
    assert await every_row(runtime) == before
