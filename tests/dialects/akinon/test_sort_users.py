"""``sort``: mongoose sort strings over the User fields, run in the database, ties broken by id."""

import httpx
import pytest

from tests.dialects.akinon.helpers import disable, users_path
from tests.factories import Tenant


@pytest.fixture
async def sorted_tenant(client: httpx.AsyncClient, tenant: Tenant) -> Tenant:
    """a: alice Zulu, fr, DE, signed in; B: Bob young, en, no region, never signed in; c: carol Xray, no
    language, AT, signed in, disabled; then a's profile changes last."""
    a = await tenant.add_user("a@sort.example", first_name="alice", last_name="Zulu", locale="fr", region="DE")
    await tenant.add_user("B@sort.example", password=None, first_name="Bob", last_name="young", locale="en")
    c = await tenant.add_user("c@sort.example", first_name="carol", last_name="Xray", region="AT")
    await disable(client, tenant, c)
    changed = await client.patch(tenant.path(f"/users/{a.id}"), json={"locale": "fr-FR"}, headers=tenant.auth)
    assert changed.status_code == 200
    return tenant


async def _order(client: httpx.AsyncClient, tenant: Tenant, sort: str | None) -> list[str]:
    query = {"username": "@sort.example"} | ({"sort": sort} if sort is not None else {})
    response = await client.get(users_path(tenant.id), params=query, headers=tenant.auth)
    assert response.status_code == 200, response.text
    return [user["username"][0] for user in response.json()["docs"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("firstName", "aBc"),
        ("-firstName", "cBa"),
        ("+firstName", "aBc"),
        ("lastName", "cBa"),
        ("-lastName", "aBc"),
        ("username", "aBc"),
        ("-username", "cBa"),
        ("status -username", "cBa"),
        ("-status,username", "aBc"),
        ("language", "cBa"),
        ("-language", "aBc"),
        ("region", "Bca"),
        ("-region", "acB"),
        ("lastLoginAt", "Bac"),
        ("-lastLoginAt", "caB"),
        ("createdAt", "aBc"),
        ("-createdAt", "cBa"),
        ("-updatedAt firstName", "acB"),
    ],
)
async def test_sorts_by_each_field_both_ways(
    client: httpx.AsyncClient, sorted_tenant: Tenant, sort: str, expected: str
) -> None:
    assert "".join(await _order(client, sorted_tenant, sort)) == expected


async def test_id_order_is_the_default_and_can_be_reversed(client: httpx.AsyncClient, sorted_tenant: Tenant) -> None:
    response = await client.get(users_path(sorted_tenant.id), headers=sorted_tenant.auth)
    ids = [user["_id"] for user in response.json()["docs"]]
    assert ids == sorted(ids)
    reverse = await client.get(users_path(sorted_tenant.id), params={"sort": "-_id"}, headers=sorted_tenant.auth)
    assert [user["_id"] for user in reverse.json()["docs"]] == sorted(ids, reverse=True)


async def test_fields_users_do_not_have_are_ignored(client: httpx.AsyncClient, sorted_tenant: Tenant) -> None:
    by_id = await _order(client, sorted_tenant, None)
    assert await _order(client, sorted_tenant, "shoeSize -password") == by_id
    assert await _order(client, sorted_tenant, "shoeSize -firstName") == list("cBa")
    assert await _order(client, sorted_tenant, "firstName -firstName") == list("aBc")
