"""GET /organizations/{organizationId}/users: the User shape, filters, sort and mongoose-paginate pages."""

import re
from typing import Any

import httpx
import pytest

from tests.dialects.akinon.helpers import disable, make_role, users_path
from tests.factories import Member, Tenant

JS_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PAGE_KEYS = [
    "docs", "totalDocs", "limit", "totalPages", "page", "pagingCounter",
    "hasPrevPage", "hasNextPage", "prevPage", "nextPage",
]  # fmt: skip


async def _page(client: httpx.AsyncClient, tenant: Tenant, **query: Any) -> dict[str, Any]:
    response = await client.get(users_path(tenant.id), params=query, headers=tenant.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert list(body) == PAGE_KEYS
    return body


def _meta(page: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in page.items() if key != "docs"}


def _emails(page: dict[str, Any]) -> list[str]:
    return [user["username"] for user in page["docs"]]


async def _five(tenant: Tenant) -> list[Member]:
    return [await tenant.add_user(f"p{n}@page.example", password=None) for n in range(1, 6)]


async def test_users_have_the_vendors_fields_and_never_a_password(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user(
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        locale="pt-BR",
        region="br",
        avatar_url="https://img.example/ada.png",
        attributes={"team": "engines"},
        settings={"mailOnBuildCompleted": True, "mailOnCodePushCompleted": False},
    )
    docs = (await _page(client, tenant, username="ada@"))["docs"]
    assert len(docs) == 1
    doc = docs[0]
    assert list(doc) == [
        "_id", "username", "firstName", "lastName", "status", "language", "region", "attributes",
        "avatarUrl", "settings", "lastLoginAt", "createdAt", "updatedAt",
    ]  # fmt: skip
    assert {key: doc[key] for key in list(doc)[:10]} == {
        "_id": user.id,
        "username": "ada@example.com",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "status": 1,
        "language": "pt",
        "region": "BR",
        "attributes": {"team": "engines"},
        "avatarUrl": "https://img.example/ada.png",
        "settings": {"mailOnBuildCompleted": True, "mailOnCodePushCompleted": False},
    }
    assert all(JS_DATE.fullmatch(doc[key]) for key in ("lastLoginAt", "createdAt", "updatedAt"))


async def test_unknown_optional_fields_are_left_out_and_no_sign_in_is_null(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await tenant.add_user("plain@example.com", password=None)
    doc = (await _page(client, tenant, username="plain@"))["docs"][0]
    assert not {"language", "region", "avatarUrl", "password", "roles"} & set(doc)
    assert doc["lastLoginAt"] is None
    assert doc["attributes"] == doc["settings"] == {}


async def test_username_is_a_partial_match_on_the_email_in_any_case(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await tenant.add_user("Grace.Hopper@Navy.example")
    await tenant.add_user("someone@example.com", first_name="navy")
    await tenant.add_user("x_y%z@example.com")
    assert _emails(await _page(client, tenant, username="NAVY")) == ["Grace.Hopper@navy.example"]
    assert _emails(await _page(client, tenant, username="y%z")) == ["x_y%z@example.com"]
    assert _emails(await _page(client, tenant, username="_y%")) == ["x_y%z@example.com"]
    assert (await _page(client, tenant, username="a\x00b"))["totalDocs"] == 0


async def test_status_1_is_everyone_not_disabled_and_0_the_disabled(client: httpx.AsyncClient, tenant: Tenant) -> None:
    active = await tenant.add_user("active@s.example")
    invited = await tenant.add_user("invited@s.example", password=None)
    blocked = await tenant.add_user("blocked@s.example")
    await disable(client, tenant, blocked)
    enabled = await _page(client, tenant, username="@s.example", status="1")
    assert sorted(_emails(enabled)) == sorted([active.email, invited.email])
    disabled = await _page(client, tenant, username="@s.example", status="0")
    assert [(user["username"], user["status"]) for user in disabled["docs"]] == [(blocked.email, 0)]


async def test_role_filter_takes_a_role_id(client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    auditor = await make_role(client, tenant, "auditor", ["users:read"])
    holder = await tenant.add_user("holder@r.example", roles=["auditor", "viewer"])
    await tenant.add_user("other@r.example", roles=["viewer"])
    assert _emails(await _page(client, tenant, role=auditor["id"])) == [holder.email]
    assert _emails(await _page(client, tenant, role=auditor["id"].upper())) == [holder.email]
    viewers = await _page(client, tenant, role="000000000000000000000006")
    assert sorted(_emails(viewers)) == ["holder@r.example", "other@r.example"]
    foreign = await make_role(client, other_tenant, "globex-only", [])
    assert (await _page(client, tenant, role=foreign["id"]))["totalDocs"] == 0


@pytest.mark.parametrize("query", [{"status": "2"}, {"status": "active"}, {"role": "auditor"}, {"role": "12"}])
async def test_filter_values_no_user_can_have_give_an_empty_page(
    client: httpx.AsyncClient, tenant: Tenant, query: dict[str, str]
) -> None:
    page = await _page(client, tenant, **query)
    assert _meta(page) == {
        "totalDocs": 0, "limit": 10, "totalPages": 1, "page": 1, "pagingCounter": 1,
        "hasPrevPage": False, "hasNextPage": False, "prevPage": None, "nextPage": None,
    }  # fmt: skip
    assert page["docs"] == []


async def test_first_middle_and_last_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    five = await _five(tenant)
    pages = [await _page(client, tenant, username="@page.example", sort="username", limit=2, page=n) for n in (1, 2, 3)]
    assert [_emails(page) for page in pages] == [[u.email for u in five[i : i + 2]] for i in (0, 2, 4)]
    common = {"totalDocs": 5, "limit": 2, "totalPages": 3}
    assert [_meta(page) for page in pages] == [
        {**common, "page": 1, "pagingCounter": 1, "hasPrevPage": False, "hasNextPage": True,
         "prevPage": None, "nextPage": 2},
        {**common, "page": 2, "pagingCounter": 3, "hasPrevPage": True, "hasNextPage": True,
         "prevPage": 1, "nextPage": 3},
        {**common, "page": 3, "pagingCounter": 5, "hasPrevPage": True, "hasNextPage": False,
         "prevPage": 2, "nextPage": None},
    ]  # fmt: skip


async def test_a_page_past_the_end_is_empty_with_true_totals(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await _five(tenant)
    page = await _page(client, tenant, username="@page.example", limit=2, page=7)
    assert page["docs"] == []
    assert _meta(page) == {
        "totalDocs": 5, "limit": 2, "totalPages": 3, "page": 7, "pagingCounter": 13,
        "hasPrevPage": True, "hasNextPage": False, "prevPage": 6, "nextPage": None,
    }  # fmt: skip
    huge = await _page(client, tenant, username="@page.example", page=10**12)
    assert (huge["docs"], huge["page"], huge["prevPage"]) == ([], 10**12, 10**12 - 1)


async def test_an_empty_result_is_one_empty_page(client: httpx.AsyncClient, tenant: Tenant) -> None:
    page = await _page(client, tenant, username="nobody-at-all")
    assert page["docs"] == []
    assert (page["totalDocs"], page["totalPages"], page["page"], page["pagingCounter"]) == (0, 1, 1, 1)
    assert (page["hasPrevPage"], page["hasNextPage"], page["prevPage"], page["nextPage"]) == (False, False, None, None)


async def test_defaults_are_page_1_of_10_and_limit_is_capped_at_100(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for n in range(11):
        await tenant.add_user(f"d{n:02d}@cap.example", password=None)
    default = await _page(client, tenant, username="@cap.example")
    assert (len(default["docs"]), default["limit"], default["page"], default["totalPages"]) == (10, 10, 1, 2)
    capped = await _page(client, tenant, username="@cap.example", limit=1000)
    assert (len(capped["docs"]), capped["limit"], capped["totalPages"], capped["nextPage"]) == (11, 100, 1, None)


@pytest.mark.parametrize("limit", [0, -5])
async def test_limit_0_or_less_answers_the_totals_only(client: httpx.AsyncClient, tenant: Tenant, limit: int) -> None:
    await _five(tenant)
    page = await _page(client, tenant, username="@page.example", limit=limit, page=3)
    assert page["docs"] == []
    assert _meta(page) == {
        "totalDocs": 5, "limit": 0, "totalPages": 1, "page": 1, "pagingCounter": 1,
        "hasPrevPage": False, "hasNextPage": False, "prevPage": None, "nextPage": None,
    }  # fmt: skip


@pytest.mark.parametrize("page_number", [0, -3])
async def test_a_page_below_1_reads_as_1(client: httpx.AsyncClient, tenant: Tenant, page_number: int) -> None:
    await _five(tenant)
    page = await _page(client, tenant, username="@page.example", limit=2, page=page_number)
    assert (page["page"], page["pagingCounter"], page["prevPage"], len(page["docs"])) == (1, 1, None, 2)


@pytest.mark.parametrize(("name", "value"), [("page", "abc"), ("limit", "1.5"), ("page", "")])
async def test_page_and_limit_must_be_integers(
    client: httpx.AsyncClient, tenant: Tenant, name: str, value: str
) -> None:
    response = await client.get(users_path(tenant.id), params={name: value}, headers=tenant.auth)
    assert response.status_code == 400
    assert list(response.json()["validationError"]) == [name]


async def test_a_username_longer_than_the_vendors_longest_is_a_validation_error(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    fits = await client.get(users_path(tenant.id), params={"username": "a" * 255}, headers=tenant.auth)
    assert (fits.status_code, fits.json()["docs"]) == (200, [])
    response = await client.get(users_path(tenant.id), params={"username": "a" * 256}, headers=tenant.auth)
    assert response.status_code == 400
    assert list(response.json()["validationError"]) == ["username"]
