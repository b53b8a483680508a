"""GET …/users/search/availables: accounts the caller could add, drawn only from what the caller may already see."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tenantry.runtime import Runtime
from tests.dialects.akinon.helpers import disable, make_api_key, make_role, users_path
from tests.factories import Member, Tenant, accept_invitation, bearer, make_tenant


async def _available(client: httpx.AsyncClient, org_id: str, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = await client.get(users_path(org_id, "/search/availables"), params=query, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _emails(page: dict[str, Any]) -> list[str]:
    return sorted(user["username"] for user in page["docs"])


Join = Callable[[Tenant, Member, list[str]], Awaitable[None]]


@pytest.fixture
def join(client: httpx.AsyncClient, runtime: Runtime) -> Join:
    """Invite ``member`` to ``org`` with the roles, and accept as the member."""

    async def joined(org: Tenant, member: Member, role_ids: list[str]) -> None:
        body = {"user": member.id, "roles": role_ids}
        response = await client.post(users_path(org.id), json=body, headers=org.auth)
        assert response.status_code == 201, response.text
        await accept_invitation(runtime, member.id, org.slug)

    return joined


async def test_an_admin_of_one_org_only_finds_nobody(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await other_tenant.add_user("stranger@globex.example")
    page = await _available(client, tenant.id, tenant.auth)
    assert (page["docs"], page["totalDocs"]) == ([], 0)


async def test_candidates_come_from_orgs_where_the_caller_reads_users(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, root_token: str, join: Join
) -> None:
    colleague = await other_tenant.add_user("colleague@globex.example")
    await join(other_tenant, tenant.owner, ["000000000000000000000006"])  # viewer: users:read
    blind = await make_tenant(client, root_token, "initech")
    no_read = await make_role(client, blind, "no-read", ["orgs:read"])
    await blind.add_user("hidden@initech.example")
    await join(blind, tenant.owner, [no_read["id"]])
    left = await make_tenant(client, root_token, "umbrella")
    await left.add_user("hidden@umbrella.example")
    await join(left, tenant.owner, ["000000000000000000000006"])
    await disable(client, left, tenant.owner)  # a disabled membership sees nothing
    page = await _available(client, tenant.id, tenant.auth)
    # Globex's owner and colleague; the platform admin who made globex is already in acme.
    assert _emails(page) == sorted([other_tenant.owner.email, colleague.email])
    assert page["totalDocs"] == 2


async def test_members_of_the_org_are_never_candidates(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, join: Join
) -> None:
    shared = await other_tenant.add_user("shared@globex.example")
    await join(tenant, shared, [])
    await join(other_tenant, tenant.owner, ["000000000000000000000006"])
    assert shared.email not in _emails(await _available(client, tenant.id, tenant.auth))


async def test_a_platform_admin_finds_every_account_outside_the_org(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, root_token: str
) -> None:
    stranger = await other_tenant.add_user("stranger@globex.example")
    gone = await other_tenant.add_user("gone@globex.example")
    deleted = await client.delete(users_path(other_tenant.id, f"/{gone.id}"), headers=other_tenant.auth)
    assert deleted.status_code == 204  # the account belonged nowhere else: it is deleted
    far = await make_tenant(client, root_token, "initech")
    page = await _available(client, tenant.id, bearer(root_token))
    assert _emails(page) == sorted([other_tenant.owner.email, stranger.email, far.owner.email])


async def test_text_matches_email_and_names_in_any_case(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, root_token: str
) -> None:
    grace = await other_tenant.add_user("g.h@globex.example", first_name="Grace", last_name="Hopper")
    alan = await other_tenant.add_user("alan@globex.example", first_name="Alan", last_name="Turing")
    root = bearer(root_token)
    assert _emails(await _available(client, tenant.id, root, text="GRACE")) == [grace.email]
    assert _emails(await _available(client, tenant.id, root, text="uring")) == [alan.email]
    assert _emails(await _available(client, tenant.id, root, text="ALAN@")) == [alan.email]
    assert (await _available(client, tenant.id, root, text="nobody"))["totalDocs"] == 0


async def test_results_are_the_vendors_page_of_users(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, root_token: str
) -> None:
    for n in range(3):
        await other_tenant.add_user(f"c{n}@globex.example", password=None)
    blocked = await other_tenant.add_user("blocked@globex.example")
    await disable(client, other_tenant, blocked)
    page = await _available(client, tenant.id, bearer(root_token), text="@globex", sort="username", limit=2, page=2)
    assert [user["username"] for user in page["docs"]] == ["c1@globex.example", "c2@globex.example"]
    assert {key: page[key] for key in ("totalDocs", "limit", "page", "totalPages", "prevPage", "nextPage")} == {
        "totalDocs": 4, "limit": 2, "page": 2, "totalPages": 2, "prevPage": 1, "nextPage": None,
    }  # fmt: skip
    first = await _available(client, tenant.id, bearer(root_token), text="blocked")
    assert [(user["username"], user["status"]) for user in first["docs"]] == [("blocked@globex.example", 0)]
    assert "password" not in first["docs"][0]


async def test_an_api_key_finds_nobody(client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    await other_tenant.add_user("stranger@globex.example")
    key = await make_api_key(client, tenant, ["admin"])
    page = await _available(client, tenant.id, {"x-access-token": key})
    assert page["totalDocs"] == 0
