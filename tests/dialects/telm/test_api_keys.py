"""telm's API keys: shown once, sent as ``X-TLM-Key``, refused once deleted."""

from typing import Any

import httpx

from tests.dialects.telm.conftest import Telm, authentication, tlm_key
from tests.factories import Tenant


async def _create(telm: Telm, name: str = "ci") -> dict[str, Any]:
    response = await telm.client.post(telm.path("/apiKeys"), json={"name": name}, headers=telm.auth)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_created_key_works_in_x_tlm_key(telm: Telm) -> None:
    created = await _create(telm)
    assert set(created) == {"id", "name", "key"}
    assert created["name"] == "ci"
    listed = await telm.client.get(telm.path("/users"), headers=tlm_key(created["key"]))
    assert listed.status_code == 200, listed.text
    made = await telm.create_user("bot-made@example.com", headers=tlm_key(created["key"]))
    assert made.status_code == 200, made.text


async def test_the_key_is_never_shown_again(telm: Telm) -> None:
    created = await _create(telm)
    listed = await telm.client.get(telm.path("/apiKeys"), headers=telm.auth)
    one = await telm.client.get(telm.path(f"/apiKeys/{created['id']}"), headers=telm.auth)
    assert listed.json() == {"keys": [{"id": created["id"], "name": "ci"}]}
    assert one.json() == {"id": created["id"], "name": "ci"}
    for answer in (listed, one):
        assert created["key"] not in answer.text
        assert created["key"].split("_", 2)[-1] not in answer.text  # the secret: tnt_<lookup>_<secret>


async def test_a_deleted_key_is_refused_on_the_next_request(telm: Telm) -> None:
    created = await _create(telm)
    assert (await telm.client.get(telm.path("/users"), headers=tlm_key(created["key"]))).status_code == 200
    deleted = await telm.client.delete(telm.path(f"/apiKeys/{created['id']}"), headers=telm.auth)
    assert (deleted.status_code, deleted.json()) == (200, {"message": "API key was deleted successfully"})
    refused = await telm.client.get(telm.path("/users"), headers=tlm_key(created["key"]))
    assert (refused.status_code, refused.json()) == (401, {"message": "the API key is invalid or revoked"})
    assert (await telm.client.get(telm.path("/apiKeys"), headers=telm.auth)).json() == {"keys": []}
    for method in ("GET", "DELETE"):
        gone = await telm.client.request(method, telm.path(f"/apiKeys/{created['id']}"), headers=telm.auth)
        assert (gone.status_code, gone.json()) == (404, {"message": "API key not found"})


async def test_a_key_acts_only_in_its_own_tenant(telm: Telm, other_tenant: Tenant) -> None:
    created = await _create(telm)
    elsewhere = await telm.client.get(telm.path("/users", tenant=other_tenant.slug), headers=tlm_key(created["key"]))
    assert elsewhere.status_code == 404


async def test_a_made_up_key_is_401(telm: Telm) -> None:
    for key in ("tnt_0123456789abcdef_" + "a" * 43, "nonsense"):
        response = await telm.client.get(telm.path("/users"), headers=tlm_key(key))
        assert response.status_code == 401, key


async def test_key_management_needs_api_key_permissions(telm: Telm, client: httpx.AsyncClient) -> None:
    created = await _create(telm)
    member = await telm.tenant.add_user()
    headers = authentication(member.token)
    assert (await client.get(telm.path("/apiKeys"), headers=headers)).status_code == 403
    assert (await client.post(telm.path("/apiKeys"), json={"name": "x"}, headers=headers)).status_code == 403
    assert (await client.delete(telm.path(f"/apiKeys/{created['id']}"), headers=headers)).status_code == 403


async def test_a_key_needs_a_name(telm: Telm) -> None:
    for body in ({}, {"name": ""}):
        response = await telm.client.post(telm.path("/apiKeys"), json=body, headers=telm.auth)
        assert response.status_code == 422
        assert "name" in response.json()["message"]


async def test_a_key_of_another_tenant_is_not_found(telm: Telm, other_tenant: Tenant) -> None:
    foreign = await telm.client.post(
        f"/compat/telm/api/auth/auth/{other_tenant.slug}/apiKeys",
        json={"name": "theirs"},
        headers=authentication(other_tenant.owner.token),
    )
    assert foreign.status_code == 200
    response = await telm.client.get(telm.path(f"/apiKeys/{foreign.json()['id']}"), headers=telm.auth)
    assert response.status_code == 404


async def test_the_answer_with_a_new_key_is_never_cached(telm: Telm) -> None:
    response = await telm.client.post(telm.path("/apiKeys"), json={"name": "ci"}, headers=telm.auth)
    assert response.status_code == 200, response.text
    assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")
