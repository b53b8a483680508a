"""Resources: typed, hierarchical things of an organization, and roles scoped to them."""

from typing import Any

import httpx

from tests.factories import Tenant


async def _create(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await client.post(tenant.path("/resources"), json=body, headers=tenant.auth)


async def _resource(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await _create(client, tenant, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_read_update_delete_a_resource(client: httpx.AsyncClient, tenant: Tenant) -> None:
    env = await _resource(client, tenant, type="environment", name="Production", external_id="env-uuid-1")
    assert set(env) == {"id", "type", "name", "parent_id", "external_id", "active", "created_at", "updated_at"}
    assert (env["type"], env["parent_id"], env["active"]) == ("environment", None, True)
    by_external = await client.get(tenant.path("/resources/env-uuid-1"), headers=tenant.auth)
    assert by_external.json()["id"] == env["id"]
    changed = await client.patch(
        tenant.path(f"/resources/{env['id']}"), json={"name": "Prod", "active": False}, headers=tenant.auth
    )
    assert (changed.json()["name"], changed.json()["active"]) == ("Prod", False)
    deleted = await client.delete(tenant.path(f"/resources/{env['id']}"), headers=tenant.auth)
    assert deleted.status_code == 204
    assert (await client.get(tenant.path(f"/resources/{env['id']}"), headers=tenant.auth)).status_code == 404


async def test_a_bot_belongs_to_an_environment(client: httpx.AsyncClient, tenant: Tenant) -> None:
    env = await _resource(client, tenant, type="environment", name="Env")
    orphan = await _create(client, tenant, type="bot", name="Bot")
    assert orphan.status_code == 422
    assert orphan.json()["errors"] == [{"field": "parent_id", "message": "a bot must belong to an environment"}]
    bot = await _resource(client, tenant, type="bot", name="Bot", parent_id=env["id"])
    under_bot = await _create(client, tenant, type="bot", name="Bot 2", parent_id=bot["id"])
    assert under_bot.status_code == 422
    nested_env = await _create(client, tenant, type="environment", name="E2", parent_id=env["id"])
    assert nested_env.json()["errors"][0]["message"] == "an environment cannot have a parent"


async def test_a_resource_cannot_move_beneath_itself(client: httpx.AsyncClient, tenant: Tenant) -> None:
    top = await _resource(client, tenant, type="folder", name="Top")
    child = await _resource(client, tenant, type="folder", name="Child", parent_id=top["id"])
    cycle = await client.patch(
        tenant.path(f"/resources/{top['id']}"), json={"parent_id": child["id"]}, headers=tenant.auth
    )
    assert cycle.status_code == 422
    assert cycle.json()["errors"][0]["field"] == "parent_id"
    detached = await client.patch(
        tenant.path(f"/resources/{child['id']}"), json={"parent_id": None}, headers=tenant.auth
    )
    assert detached.json()["parent_id"] is None


async def test_external_ids_are_unique_per_organization(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await _resource(client, tenant, type="environment", name="A", external_id="same")
    again = await _create(client, tenant, type="environment", name="B", external_id="same")
    assert again.status_code == 409
    elsewhere = await client.post(
        other_tenant.path("/resources"),
        json={"type": "environment", "name": "A", "external_id": "same"},
        headers=other_tenant.auth,
    )
    assert elsewhere.status_code == 201


async def test_a_resource_with_children_cannot_be_deleted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    env = await _resource(client, tenant, type="environment", name="Env")
    await _resource(client, tenant, type="bot", name="Bot", parent_id=env["id"])
    refused = await client.delete(tenant.path(f"/resources/{env['id']}"), headers=tenant.auth)
    assert refused.status_code == 409


async def test_list_filters_and_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    env = await _resource(client, tenant, type="environment", name="Env")
    created = [await _resource(client, tenant, type="bot", name=f"Bot {i}", parent_id=env["id"]) for i in range(3)]
    bots = sorted(created, key=lambda bot: bot["id"])  # ids are time-ordered only to the second
    await client.patch(tenant.path(f"/resources/{bots[0]['id']}"), json={"active": False}, headers=tenant.auth)
    first = await client.get(tenant.path("/resources"), params={"type": "bot", "limit": 2}, headers=tenant.auth)
    assert [item["id"] for item in first.json()["items"]] == [bots[0]["id"], bots[1]["id"]]
    second = await client.get(
        tenant.path("/resources"),
        params={"type": "bot", "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=tenant.auth,
    )
    assert [item["id"] for item in second.json()["items"]] == [bots[2]["id"]]
    assert second.json()["next_cursor"] is None
    active = await client.get(
        tenant.path("/resources"), params={"parent_id": env["id"], "active": "true"}, headers=tenant.auth
    )
    assert [item["id"] for item in active.json()["items"]] == [bots[1]["id"], bots[2]["id"]]


async def test_resources_of_other_organizations_are_404(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    env = await _resource(client, tenant, type="environment", name="Env")
    foreign = await client.get(other_tenant.path(f"/resources/{env['id']}"), headers=other_tenant.auth)
    assert foreign.status_code == 404
    as_parent = await client.post(
        other_tenant.path("/resources"),
        json={"type": "bot", "name": "B", "parent_id": env["id"]},
        headers=other_tenant.auth,
    )
    assert as_parent.status_code == 422


async def test_viewers_cannot_read_or_write_resources(client: httpx.AsyncClient, tenant: Tenant) -> None:
    viewer = await tenant.add_user(roles=["viewer"])
    assert (await client.get(tenant.path("/resources"), headers=viewer.auth)).status_code == 403
    create = await client.post(
        tenant.path("/resources"), json={"type": "environment", "name": "E"}, headers=viewer.auth
    )
    assert create.status_code == 403


async def test_scoped_roles_are_set_read_and_give_nothing_org_wide(client: httpx.AsyncClient, tenant: Tenant) -> None:
    env = await _resource(client, tenant, type="environment", name="Env", external_id="env-1")
    user = await tenant.add_user(roles=["viewer"])
    path = tenant.path(f"/users/{user.id}/scoped-roles")
    body = {"grants": [{"role": "supervisor", "resource": "env-1"}, {"role": "supervisor", "resource": env["id"]}]}
    response = await client.put(path, json=body, headers=tenant.auth)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"role": "supervisor", "resource_id": env["id"], "resource_type": "environment", "resource_name": "Env"}
    ]
    assert (await client.get(path, headers=tenant.auth)).json() == response.json()
    native = await client.get(tenant.path(f"/users/{user.id}"), headers=tenant.auth)
    assert native.json()["roles"] == ["viewer"]
    # Supervisor on one environment does not make the user a supervisor of the organization.
    refused = await client.post(tenant.path("/users"), json={"email": "x@example.com"}, headers=user.auth)
    assert refused.status_code == 403
    cleared = await client.put(path, json={"grants": []}, headers=tenant.auth)
    assert cleared.json() == []


async def test_scoped_roles_name_unknown_roles_and_resources(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user()
    response = await client.put(
        tenant.path(f"/users/{user.id}/scoped-roles"),
        json={"grants": [{"role": "wizard", "resource": "nowhere"}]},
        headers=tenant.auth,
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["grants[0].role", "grants[0].resource"]


async def test_a_granted_role_cannot_be_deleted_and_deleting_the_resource_drops_grants(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    role = await client.post(
        tenant.path("/roles"), json={"name": "bot-reader", "permissions": ["users:read"]}, headers=tenant.auth
    )
    assert role.status_code == 201
    env = await _resource(client, tenant, type="environment", name="Env")
    user = await tenant.add_user()
    path = tenant.path(f"/users/{user.id}/scoped-roles")
    await client.put(path, json={"grants": [{"role": "bot-reader", "resource": env["id"]}]}, headers=tenant.auth)
    assert (await client.delete(tenant.path("/roles/bot-reader"), headers=tenant.auth)).status_code == 409
    assert (await client.delete(tenant.path(f"/resources/{env['id']}"), headers=tenant.auth)).status_code == 204
    assert (await client.get(path, headers=tenant.auth)).json() == []
    assert (await client.delete(tenant.path("/roles/bot-reader"), headers=tenant.auth)).status_code == 204
