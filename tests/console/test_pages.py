"""The console in process: sign-in redirect, organization scoping, pages that show only what the viewer
may do, CSRF on every change, and each action through the same services as the API."""

import re

import httpx

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, make_platform_admin
from tests.mailbox import Mailbox, csrf_of

_HTMX_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def token_of(html: str) -> str:
    """The page's CSRF token, as htmx sends it (every console page carries it, forms or not)."""
    found = _HTMX_TOKEN.search(html)
    assert found is not None, "the page has no CSRF token for htmx"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    page = await client.get("/ui/sign-in")
    fields = {"email": email, "password": password, "csrf_token": csrf_of(page.text)}
    response = await client.post("/ui/sign-in", data=fields)
    assert response.status_code == 303, response.text


async def post(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str] | None = None
) -> httpx.Response:
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    return await client.post(action, data={**(fields or {}), "csrf_token": token_of(opened.text)})


async def test_console_sends_a_stranger_to_the_hosted_sign_in_and_back(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(f"/console/{tenant.slug}/members?q=ab")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/sign-in?continue=/console/{tenant.slug}/members%3Fq%3Dab"
    page = await client.get(response.headers["location"])
    fields = {"email": tenant.owner.email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    fields["continue"] = f"/console/{tenant.slug}/members?q=ab"
    assert 'name="continue"' in page.text
    signed = await client.post("/ui/sign-in", data=fields)
    assert signed.headers["location"] == f"/console/{tenant.slug}/members?q=ab"


async def test_sign_in_never_continues_to_another_site(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for target in ("https://evil.example/console", "//evil.example/console", "/consolex", "/console\\@evil"):
        page = await client.get("/ui/sign-in", params={"continue": target})
        assert 'name="continue"' not in page.text, target


async def test_console_leads_a_member_of_one_org_to_its_members(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    response = await client.get("/console")
    assert response.headers["location"] == f"/console/{tenant.slug}/members"


async def test_members_page_lists_searches_and_counts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await tenant.add_user("ada.lovelace@example.com", first_name="Ada", last_name="Lovelace")
    await tenant.add_user("grace@example.com", first_name="Grace", last_name="Hopper", roles=["viewer"])
    await sign_in(client, tenant.owner.email)
    page = await client.get(f"/console/{tenant.slug}/members")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert 'role="searchbox"' in page.text
    assert "4 members" in page.text  # the creator (root), the owner, Ada and Grace
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text
    for input_id in re.findall(r'<(?:input|select) id="([^"]+)"', page.text):
        assert f'<label for="{input_id}">' in page.text or f'for="{input_id}"' in page.text, input_id
    found = await client.get(
        f"/console/{tenant.slug}/members",
        params={"q": "lovel"},
        headers={"HX-Request": "true", "HX-Target": "member-results"},
    )
    assert "<html" not in found.text
    assert "1 member" in found.text
    assert "ada.lovelace@example.com" in found.text
    assert "grace@example.com" not in found.text
    viewers = await client.get(f"/console/{tenant.slug}/members", params={"role": "viewer"})
    assert "1 member" in viewers.text
    assert "grace@example.com" in viewers.text
    assert (await client.get("/console/static/htmx/htmx.min.js")).status_code == 200


async def test_another_orgs_console_pages_are_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    stranger = await other_tenant.add_user(roles=["viewer"])
    await sign_in(client, tenant.owner.email)
    assert (await client.get(f"/console/{other_tenant.slug}/members")).status_code == 404
    assert (await client.get(f"/console/{other_tenant.slug}/members/{stranger.id}")).status_code == 404
    assert (await client.get(f"/console/{tenant.slug}/members/{stranger.id}")).status_code == 404


async def test_a_plain_member_sees_a_read_only_list_and_is_refused_changes(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user(roles=["member"])
    await sign_in(client, member.email)
    page = await client.get(f"/console/{tenant.slug}/members")
    assert page.status_code == 200
    assert "Send invitation" not in page.text
    detail = await client.get(f"/console/{tenant.slug}/members/{tenant.owner.id}")
    assert "Save roles" not in detail.text
    assert "Disable" not in detail.text
    refused = await post(
        client, f"/console/{tenant.slug}/members", f"/console/{tenant.slug}/members/{tenant.owner.id}/disable"
    )
    assert refused.status_code == 403
    user = await tenant.client.get(tenant.path(f"/users/{tenant.owner.id}"), headers=tenant.auth)
    assert user.json()["status"] == "active"


async def test_changes_without_the_csrf_token_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    await sign_in(client, tenant.owner.email)
    await client.get(f"/console/{tenant.slug}/members")
    response = await client.post(f"/console/{tenant.slug}/members/{member.id}/disable")
    assert response.status_code == 403
    forged = await client.post(
        f"/console/{tenant.slug}/members/{member.id}/disable", headers={"X-CSRF-Token": "forged-forged-forged-forged"}
    )
    assert forged.status_code == 403
    user = await tenant.client.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)
    assert user.json()["status"] == "active"


async def test_invite_creates_an_invited_member_and_mails_the_invitation(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    await sign_in(client, tenant.owner.email)
    members = f"/console/{tenant.slug}/members"
    fields = {"email": "newcomer@example.com", "first_name": "New", "last_name": "Comer", "roles": "viewer"}
    response = await post(client, members, members, fields)
    assert response.status_code == 303, response.text
    listed = await tenant.client.get(tenant.path("/users"), params={"q": "newcomer"}, headers=tenant.auth)
    (user,) = listed.json()["items"]
    assert user["status"] == "invited"
    assert user["roles"] == ["viewer"]
    assert user["first_name"] == "New"
    assert "/ui/activate?token=" in (await mailbox.one_for("newcomer@example.com")).text
    bad = await post(client, members, members, {"email": "not an address"})
    assert bad.status_code == 400
    assert 'role="alert"' in bad.text
    assert "Email" in bad.text


async def test_owner_changes_roles_disables_enables_and_removes_a_member(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user(roles=["member"])
    await sign_in(client, tenant.owner.email)
    base = f"/console/{tenant.slug}/members/{member.id}"
    api = tenant.client

    async def seen() -> dict[str, object]:
        return (await api.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)).json()

    assert (await post(client, base, f"{base}/roles", {"roles": "viewer"})).status_code == 303
    assert (await seen())["roles"] == ["viewer"]
    confirm = await client.get(f"{base}/confirm/disable")
    assert confirm.status_code == 200
    assert "Disable" in confirm.text
    assert (await post(client, f"{base}/confirm/disable", f"{base}/disable")).status_code == 303
    assert (await seen())["status"] == "disabled"
    assert (await post(client, f"{base}/confirm/enable", f"{base}/enable")).status_code == 303
    assert (await seen())["status"] == "active"
    page = await post(client, base, f"{base}/magic-link")
    assert page.status_code == 200
    assert "/ui/magic?token=" in page.text
    assert "data-copy=" in page.text
    events = await client.get(base)
    assert "member.disabled" in events.text
    assert "member.enabled" in events.text
    assert (await post(client, f"{base}/confirm/remove", f"{base}/remove")).status_code == 303
    assert (await api.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)).status_code == 404


async def test_platform_admin_sees_every_org_and_creates_one(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = await make_platform_admin(runtime, "console-root@example.com")
    await sign_in(client, admin.email)
    chooser = await client.get("/console")
    assert chooser.status_code == 200
    assert tenant.slug in chooser.text
    assert other_tenant.slug in chooser.text
    created = await post(client, "/console", "/console/orgs", {"name": "Made Here", "slug": "made-here"})
    assert created.headers["location"] == "/console/made-here/members"
    assert (await tenant.client.get("/api/v1/orgs/made-here", headers=tenant.auth)).status_code == 404
    taken = await post(client, "/console", "/console/orgs", {"name": "Again", "slug": "made-here"})
    assert taken.status_code == 409
    assert 'role="alert"' in taken.text


async def test_an_org_member_cannot_create_organizations(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    await client.get("/ui/sign-in")
    page = await client.get(f"/console/{tenant.slug}/members")
    response = await client.post(
        "/console/orgs", data={"name": "X", "slug": "x-org"}, headers={"X-CSRF-Token": token_of(page.text)}
    )
    assert response.status_code == 403
