"""GET /v1/org/{orgId}/user?q&offset&size: the org's users whose email contains ``q``, a page at a time."""

from typing import Any

import httpx
import pytest

from tests.dialects.saleschat.helpers import MISSING_ID, assert_error, users_path
from tests.factories import Tenant, bearer


async def _search(client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = await client.get(users_path(tenant.id), params=query, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "has_more"}
    return page


def _emails(page: dict[str, Any]) -> list[str]:
    return [item["email"] for item in page["items"]]


@pytest.fixture
async def people(tenant: Tenant, other_tenant: Tenant) -> None:
    for name in ("carol", "alice", "bob", "alina"):
        await tenant.add_user(f"{name}@sales.example", password=None, first_name=name.title(), last_name="Doe")
    await other_tenant.add_user("alison@sales.example", password=None)


@pytest.mark.usefixtures("people")
async def test_partial_email_match_in_any_letter_case_ordered_by_email(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    page = await _search(client, tenant, tenant.auth, q="ALI")
    assert _emails(page) == ["alice@sales.example", "alina@sales.example"]
    assert page["has_more"] is False
    item = page["items"][0]
    assert set(item) == {"id", "email", "first_name", "last_name"}
    assert (item["first_name"], item["last_name"]) == ("Alice", "Doe")
    assert _emails(await _search(client, tenant, tenant.auth, q="sales.example")) == [
        "alice@sales.example", "alina@sales.example", "bob@sales.example", "carol@sales.example",
    ]  # fmt: skip
    assert _emails(await _search(client, tenant, tenant.auth, q="nobody")) == []


@pytest.mark.usefixtures("people")
async def test_offset_and_size_page_with_has_more(client: httpx.AsyncClient, tenant: Tenant) -> None:
    q = "@sales."
    first = await _search(client, tenant, tenant.auth, q=q, offset=0, size=3)
    assert (_emails(first), first["has_more"]) == (
        ["alice@sales.example", "alina@sales.example", "bob@sales.example"],
        True,
    )
    rest = await _search(client, tenant, tenant.auth, q=q, offset=3, size=3)
    assert (_emails(rest), rest["has_more"]) == (["carol@sales.example"], False)
    exact = await _search(client, tenant, tenant.auth, q=q, offset=2, size=2)
    assert (_emails(exact), exact["has_more"]) == (["bob@sales.example", "carol@sales.example"], False)
    assert await _search(client, tenant, tenant.auth, q=q, offset=9) == {"items": [], "has_more": False}
    assert await _search(client, tenant, tenant.auth, q=q, size=0) == {"items": [], "has_more": True}
    assert await _search(client, tenant, tenant.auth, q=q, offset=4, size=0) == {"items": [], "has_more": False}


async def test_defaults_are_every_user_ten_at_a_time(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for number in range(11):
        await tenant.add_user(f"person{number:02}@example.com", password=None)
    page = await _search(client, tenant, tenant.auth)  # the owner, 11 people and the creator
    assert _emails(page) == ["owner-acme@example.com", *[f"person{number:02}@example.com" for number in range(9)]]
    assert page["has_more"] is True
    assert _emails(await _search(client, tenant, tenant.auth, q="", offset=10)) == [
        "person09@example.com", "person10@example.com", "root@example.com",
    ]  # fmt: skip


async def test_disabled_users_are_found_deleted_ones_are_not(client: httpx.AsyncClient, tenant: Tenant) -> None:
    disabled = await tenant.add_user("disabled@example.com")
    deleted = await tenant.add_user("deleted@example.com")
    assert (await client.post(users_path(tenant.id, f"/{disabled.id}/disable"), headers=tenant.auth)).status_code == 204
    assert (await client.post(users_path(tenant.id, f"/{deleted.id}/delete"), headers=tenant.auth)).status_code == 204
    assert _emails(await _search(client, tenant, tenant.auth, q="d@example")) == ["disabled@example.com"]


@pytest.mark.parametrize("role", ["member", "viewer"])
async def test_any_member_may_search(client: httpx.AsyncClient, tenant: Tenant, role: str) -> None:
    member = await tenant.add_user("seeker@example.com", roles=[role])
    assert _emails(await _search(client, tenant, member.auth, q="seeker")) == ["seeker@example.com"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"offset": -1}, "offset"), ({"size": -1}, "size"), ({"size": "ten"}, "size"), ({"offset": 2**31}, "offset")],
)
async def test_invalid_offset_or_size_is_4220001(
    client: httpx.AsyncClient, tenant: Tenant, query: dict[str, Any], field: str
) -> None:
    response = await client.get(users_path(tenant.id), params={"q": "", **query}, headers=tenant.auth)
    assert set(assert_error(response, 422, 4220001)) == {field}


async def test_a_term_longer_than_the_longest_email_is_4220001(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await _search(client, tenant, tenant.auth, q="a" * 319))["items"] == []
    response = await client.get(users_path(tenant.id), params={"q": "a" * 320}, headers=tenant.auth)
    assert set(assert_error(response, 422, 4220001)) == {"q"}


async def test_a_nul_character_matches_nobody(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert await _search(client, tenant, tenant.auth, q="a\x00b") == {"items": [], "has_more": False}


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token")])
async def test_without_valid_credentials_it_is_4010001(
    client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str]
) -> None:
    assert_error(await client.get(users_path(tenant.id), params={"q": ""}, headers=headers), 401, 4010001)


async def test_an_org_unknown_or_foreign_is_4030002(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    for org in (MISSING_ID, other_tenant.id, other_tenant.slug, "o" * 101, "a%00b"):
        assert_error(await client.get(users_path(org), params={"q": ""}, headers=tenant.auth), 403, 4030002)
