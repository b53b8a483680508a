"""eva's bulk-delete and bulk-permissions: every user all or nothing, with a result of its own."""

import httpx

from tests.dialects.eva.conftest import Eva

VIEWER_BOT_1 = {"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}
VIEWER_BOT_2 = {"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-2"}]}


async def test_bulk_delete_reports_each_user(client: httpx.AsyncClient, eva: Eva) -> None:
    first = await eva.create_user(email="one@example.com")
    second = await eva.create_user(email="two@example.com")
    root = next(
        user["uuid"]
        for user in (
            await client.get(eva.path("/users"), params={"searchTerms": "root@"}, headers=eva.tenant.auth)
        ).json()["content"]
    )
    uuids = [first["uuid"], "000000000000000000000000", second["uuid"], root]
    response = await client.request(
        "DELETE", eva.path("/users/bulk-delete"), json={"uuids": uuids}, headers=eva.tenant.auth
    )
    assert response.status_code == 200
    assert response.json() == {
        "deleted": [first["uuid"], second["uuid"]],
        "errors": [
            {"000000000000000000000000": "user not found"},
            {root: "only a platform admin may manage a platform admin"},
        ],
    }
    for user in (first, second):
        assert (await client.get(eva.path(f"/users/{user['uuid']}"), headers=eva.tenant.auth)).status_code == 404


async def test_bulk_delete_of_nobody_is_422(client: httpx.AsyncClient, eva: Eva) -> None:
    response = await client.request(
        "DELETE", eva.path("/users/bulk-delete"), json={"uuids": ["=cmd"]}, headers=eva.tenant.auth
    )
    assert response.status_code == 422
    assert response.json() == {"deleted": [], "errors": [{"'=cmd": "user not found"}]}
    empty = await client.request("DELETE", eva.path("/users/bulk-delete"), json={"uuids": []}, headers=eva.tenant.auth)
    assert empty.status_code == 422
    assert empty.json()["details"][0]["fieldName"] == "uuids"


async def test_bulk_permissions_grant_keeps_one_role_per_user(client: httpx.AsyncClient, eva: Eva) -> None:
    viewer = await eva.create_user(email="viewer@example.com", environments=[VIEWER_BOT_1])
    fresh = await eva.create_user(email="fresh@example.com")
    supervisor = await eva.create_user(
        email="sup@example.com", environments=[{"role": "SUPERVISOR", "environment": {"uuid": "env-2"}}]
    )
    admin = await eva.create_user(email="admin@example.com", admin=True)
    uuids = [viewer["uuid"], fresh["uuid"], supervisor["uuid"], admin["uuid"]]
    response = await client.post(
        eva.path("/users/bulk-permissions"),
        json={"uuids": uuids, "environments": [VIEWER_BOT_2]},
        headers=eva.tenant.auth,
    )
    assert response.status_code == 200
    assert response.json() == {
        "updated": [viewer["uuid"], fresh["uuid"]],
        "errors": [
            {supervisor["uuid"]: "a user may only have one role: the user is SUPERVISOR"},
            {admin["uuid"]: "the user is an ADMIN, who holds every environment"},
        ],
    }
    changed = (await client.get(eva.path(f"/users/{viewer['uuid']}"), headers=eva.tenant.auth)).json()
    assert changed["environments"] == [
        {
            "role": "VIEWER",
            "environment": {"uuid": "env-1", "name": "Production"},
            "bots": [{"uuid": "bot-1", "name": "Bot-1"}, {"uuid": "bot-2", "name": "Bot-2"}],
        }
    ]
    fresh_now = (await client.get(eva.path(f"/users/{fresh['uuid']}"), headers=eva.tenant.auth)).json()
    assert fresh_now["environments"][0]["bots"] == [{"uuid": "bot-2", "name": "Bot-2"}]


async def test_bulk_permissions_revoke(client: httpx.AsyncClient, eva: Eva) -> None:
    viewer = await eva.create_user(
        email="viewer@example.com",
        environments=[
            {"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}, {"uuid": "bot-2"}]}
        ],
    )
    response = await client.request(
        "DELETE",
        eva.path("/users/bulk-permissions"),
        json={"uuids": [viewer["uuid"]], "environments": [VIEWER_BOT_1]},
        headers=eva.tenant.auth,
    )
    assert response.status_code == 200
    assert response.json() == {"updated": [viewer["uuid"]], "errors": []}
    after = (await client.get(eva.path(f"/users/{viewer['uuid']}"), headers=eva.tenant.auth)).json()
    assert after["environments"][0]["bots"] == [{"uuid": "bot-2", "name": "Bot-2"}]


async def test_bulk_permissions_check_the_grants_first(client: httpx.AsyncClient, eva: Eva) -> None:
    viewer = await eva.create_user(email="viewer@example.com")
    response = await client.post(
        eva.path("/users/bulk-permissions"),
        json={
            "uuids": [viewer["uuid"]],
            "environments": [{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-off"}]}],
        },
        headers=eva.tenant.auth,
    )
    assert response.status_code == 422
    assert response.json()["details"] == [
        {
            "fieldName": "environments[0].bots[0].uuid",
            "message": "bot bot-off is not active",
            "errorCode": "INVALID_VALUE",
        }
    ]


async def test_supervisors_may_not_bulk_delete(client: httpx.AsyncClient, eva: Eva) -> None:
    supervisor = await eva.create_user(
        email="sup@example.com", admin=False, environments=[{"role": "SUPERVISOR", "environment": {"uuid": "env-1"}}]
    )
    await client.put(
        eva.tenant.path(f"/users/{supervisor['uuid']}/roles"), json={"roles": ["supervisor"]}, headers=eva.tenant.auth
    )
    token = (
        await client.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": "sup@example.com", "password": "Secret1"}
        )
    ).json()["access_token"]
    admin = await eva.create_user(email="boss@example.com", admin=True)
    response = await client.request(
        "DELETE",
        eva.path("/users/bulk-delete"),
        json={"uuids": [admin["uuid"]]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403  # supervisors hold no users:delete
    assert (await client.get(eva.path(f"/users/{admin['uuid']}"), headers=eva.tenant.auth)).status_code == 200
