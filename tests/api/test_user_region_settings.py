"""A user's region (ISO 3166-1 alpha-2) and own settings: set at creation, changed by PATCH, always answered."""

import httpx
import pytest

from tests.factories import Tenant


async def test_region_and_settings_are_stored_and_answered(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        tenant.path("/users"),
        json={"email": "r@example.com", "region": "de", "settings": {"mailOnBuildCompleted": True}},
        headers=tenant.auth,
    )
    assert created.status_code == 201
    assert (created.json()["region"], created.json()["settings"]) == ("DE", {"mailOnBuildCompleted": True})
    user_path = tenant.path(f"/users/{created.json()['id']}")
    changed = await client.patch(user_path, json={"region": "TR", "settings": {"theme": "dark"}}, headers=tenant.auth)
    assert (changed.json()["region"], changed.json()["settings"]) == ("TR", {"theme": "dark"})
    cleared = await client.patch(user_path, json={"region": None}, headers=tenant.auth)
    assert cleared.json()["region"] is None
    read = await client.get(user_path, headers=tenant.auth)
    assert (read.json()["region"], read.json()["settings"]) == (None, {"theme": "dark"})


async def test_users_without_them_answer_null_and_an_empty_object(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(tenant.path("/users"), json={"email": "plain@example.com"}, headers=tenant.auth)
    assert (created.json()["region"], created.json()["settings"]) == (None, {})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"region": "DEU"}, "region"),
        ({"region": "d1"}, "region"),
        ({"settings": None}, "settings"),
        ({"settings": ["a"]}, "settings"),
        ({"settings": {"k": "a\u0000b"}}, "settings"),
        ({"settings": {"k": "x" * 20_000}}, "settings"),
    ],
)
async def test_bad_region_or_settings_are_422(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object], field: str
) -> None:
    user = await tenant.add_user()
    response = await client.patch(tenant.path(f"/users/{user.id}"), json=body, headers=tenant.auth)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]
