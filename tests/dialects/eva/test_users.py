"""eva's users: create, read, change, activate, delete, and the caller."""

import httpx

from tenantry.runtime import Runtime
from tests.dialects.eva.conftest import Eva
from tests.factories import Tenant, accept_invitation, bearer, token_for


async def test_create_returns_the_list_item_shape(eva: Eva) -> None:
    user = await eva.create_user(
        name="Ada Lovelace",
        email="ada@example.com",
        company="Analytical",
        image="https://img.example/ada.png",
        environments=[{"role": "EDITOR", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}],
    )
    assert set(user) == {
        "uuid",
        "name",
        "email",
        "company",
        "image",
        "admin",
        "active",
        "orgUUID",
        "createdAt",
        "rules",
        "environments",
    }
    assert (user["name"], user["email"], user["company"], user["image"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "Analytical",
        "https://img.example/ada.png",
    )
    assert user["admin"] is False
    assert user["active"] is True
    assert user["orgUUID"] == eva.tenant.id
    assert user["createdAt"].endswith("Z")
    assert user["rules"] == {"deletable": True}
    assert user["environments"] == [
        {
            "role": "EDITOR",
            "environment": {"uuid": "env-1", "name": "Production"},
            "bots": [{"uuid": "bot-1", "name": "Bot-1"}],
        }
    ]


async def test_admin_maps_to_the_admin_role(client: httpx.AsyncClient, eva: Eva) -> None:
    user = await eva.create_user(email="boss@example.com", admin=True)
    assert user["admin"] is True
    assert user["environments"] == []
    native = await client.get(eva.tenant.path(f"/users/{user['uuid']}"), headers=eva.tenant.auth)
    assert native.json()["roles"] == ["admin"]


async def test_roles_map_to_built_in_roles_scoped_to_resources(client: httpx.AsyncClient, eva: Eva) -> None:
    user = await eva.create_user(
        email="sup@example.com", environments=[{"role": "SUPERVISOR", "environment": {"uuid": "env-1"}}]
    )
    native = await client.get(eva.tenant.path(f"/users/{user['uuid']}"), headers=eva.tenant.auth)
    assert native.json()["roles"] == ["member"]
    scoped = await client.get(eva.tenant.path(f"/users/{user['uuid']}/scoped-roles"), headers=eva.tenant.auth)
    assert [(grant["role"], grant["resource_id"]) for grant in scoped.json()] == [
        ("supervisor", eva.resources["env-1"]["id"])
    ]


async def test_create_enforces_the_environment_rules(client: httpx.AsyncClient, eva: Eva) -> None:
    cases = [
        (
            {"role": "EDITOR", "environment": {"uuid": "env-1"}},
            "environments[0].bots",
            "EDITOR requires at least one bot",
        ),
        (
            {"role": "SUPERVISOR", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]},
            "environments[0].bots",
            "SUPERVISOR is granted an environment, not bots",
        ),
        (
            {"role": "VIEWER", "environment": {"uuid": "nope"}, "bots": [{"uuid": "bot-1"}]},
            "environments[0].environment.uuid",
            "environment nope does not exist",
        ),
        (
            {"role": "VIEWER", "environment": {"uuid": "env-off"}, "bots": [{"uuid": "bot-in-off"}]},
            "environments[0].environment.uuid",
            "environment env-off is not active",
        ),
        (
            {"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-off"}]},
            "environments[0].bots[0].uuid",
            "bot bot-off is not active",
        ),
        (
            {"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-2b"}]},
            "environments[0].bots[0].uuid",
            "bot bot-2b does not belong to environment env-1",
        ),
    ]
    for grant, field, message in cases:
        response = await client.post(
            eva.path("/users"),
            json={"name": "X", "email": "x@example.com", "environments": [grant]},
            headers=eva.tenant.auth,
        )
        assert response.status_code == 422, grant
        body = response.json()
        assert body["errorType"] == "USER_ERROR"
        assert body["errorCode"] == "VALIDATION_ERROR"
        assert [(d["fieldName"], d["message"]) for d in body["details"]] == [(field, message)]


async def test_a_bot_named_twice_is_granted_once(eva: Eva) -> None:
    bots = [{"uuid": "bot-1"}, {"uuid": "bot-1"}]
    user = await eva.create_user(
        email="twice@example.com", environments=[{"role": "EDITOR", "environment": {"uuid": "env-1"}, "bots": bots}]
    )
    assert user["environments"][0]["bots"] == [{"uuid": "bot-1", "name": "Bot-1"}]


async def test_a_user_has_one_role_and_admins_hold_no_environments(client: httpx.AsyncClient, eva: Eva) -> None:
    two_roles = await client.post(
        eva.path("/users"),
        json={
            "name": "X",
            "email": "x@example.com",
            "environments": [
                {"role": "SUPERVISOR", "environment": {"uuid": "env-2"}},
                {"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]},
            ],
        },
        headers=eva.tenant.auth,
    )
    assert two_roles.status_code == 422
    assert two_roles.json()["details"][0]["message"] == "a user may only have one role"
    admin = await client.post(
        eva.path("/users"),
        json={
            "name": "X",
            "email": "x@example.com",
            "admin": True,
            "environments": [{"role": "SUPERVISOR", "environment": {"uuid": "env-2"}}],
        },
        headers=eva.tenant.auth,
    )
    assert admin.json()["details"][0]["fieldName"] == "environments"


async def test_password_follows_evas_rule(client: httpx.AsyncClient, eva: Eva) -> None:
    for weak in ("Ab1", "alllower1", "ALLUPPER1", "NoDigits"):
        response = await client.post(
            eva.path("/users"), json={"name": "X", "email": "x@example.com", "password": weak}, headers=eva.tenant.auth
        )
        assert response.status_code == 422, weak
        assert response.json()["details"][0]["fieldName"] == "password"
    user = await eva.create_user(email="six@example.com", password="Abc!de")
    assert await token_for(client, "six@example.com", "Abc!de")
    assert user["active"] is True


async def test_duplicate_email_is_409_standard_error(client: httpx.AsyncClient, eva: Eva) -> None:
    await eva.create_user(email="dup@example.com")
    again = await client.post(
        eva.path("/users"), json={"name": "Again", "email": "DUP@example.com"}, headers=eva.tenant.auth
    )
    assert again.status_code == 409
    body = again.json()
    assert set(body) == {"timestamp", "errorCode", "errorType", "message", "path"}
    assert (body["errorCode"], body["errorType"]) == ("CONFLICT", "USER_ERROR")
    assert body["path"] == eva.path("/users")
    assert isinstance(body["timestamp"], int)


async def test_get_and_update_a_user(client: httpx.AsyncClient, eva: Eva) -> None:
    user = await eva.create_user(
        email="u@example.com",
        environments=[{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}],
    )
    path = eva.path(f"/users/{user['uuid']}")
    assert (await client.get(path, headers=eva.tenant.auth)).json() == user
    changed = await client.put(
        path,
        json={
            "name": "Renamed",
            "company": "NewCo",
            "environments": [{"role": "VIEWER", "environment": {"uuid": "env-2"}, "bots": [{"uuid": "bot-2b"}]}],
        },
        headers=eva.tenant.auth,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["company"], body["email"]) == ("Renamed", "NewCo", "u@example.com")
    assert [entry["environment"]["uuid"] for entry in body["environments"]] == ["env-2"]
    promoted = await client.put(path, json={"admin": True}, headers=eva.tenant.auth)
    assert promoted.json()["admin"] is True
    assert promoted.json()["environments"] == []
    demoted = await client.put(
        path,
        json={"admin": False, "environments": [{"role": "SUPERVISOR", "environment": {"uuid": "env-1"}}]},
        headers=eva.tenant.auth,
    )
    assert demoted.json()["admin"] is False
    assert demoted.json()["environments"][0]["role"] == "SUPERVISOR"


async def _shared_account(client: httpx.AsyncClient, runtime: Runtime, eva: Eva, other_tenant: Tenant) -> str:
    """Ada, made in eva's organization with a first and a last name, who has also joined another one."""
    ada = await eva.tenant.add_user("ada@example.com", first_name="Ada", last_name="Lovelace")
    invited = await client.post(other_tenant.path("/members"), json={"email": ada.email}, headers=other_tenant.auth)
    assert invited.status_code < 300, invited.text
    await accept_invitation(runtime, ada.id, other_tenant.slug)
    return ada.id


async def test_the_name_read_back_unchanged_does_not_change_a_shared_account(
    client: httpx.AsyncClient, runtime: Runtime, eva: Eva, other_tenant: Tenant
) -> None:
    """A client that reads a user, changes the organization's own ``company`` and sends the body back is not
    refused because the account is shared: the name it sends is the one it read."""
    path = eva.path(f"/users/{await _shared_account(client, runtime, eva, other_tenant)}")
    read = (await client.get(path, headers=eva.tenant.auth)).json()
    assert read["name"] == "Ada Lovelace"
    body = {key: read[key] for key in ("name", "email", "company", "image")} | {"company": "Analytical"}
    changed = await client.put(path, json=body, headers=eva.tenant.auth)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["company"]) == ("Ada Lovelace", "Analytical")


async def test_a_new_name_for_a_shared_account_is_still_refused(
    client: httpx.AsyncClient, runtime: Runtime, eva: Eva, other_tenant: Tenant
) -> None:
    path = eva.path(f"/users/{await _shared_account(client, runtime, eva, other_tenant)}")
    changed = await client.put(path, json={"name": "Ada King"}, headers=eva.tenant.auth)
    assert changed.status_code == 403, changed.text
    assert changed.json()["errorCode"] == "FORBIDDEN"


async def test_the_name_read_back_unchanged_keeps_first_and_last_name(client: httpx.AsyncClient, eva: Eva) -> None:
    ada = await eva.tenant.add_user("ada@example.com", first_name="Ada", last_name="Lovelace")
    path = eva.path(f"/users/{ada.id}")
    read = (await client.get(path, headers=eva.tenant.auth)).json()
    changed = await client.put(path, json={"name": read["name"]}, headers=eva.tenant.auth)
    assert changed.status_code == 200, changed.text
    native = (await client.get(eva.tenant.path(f"/users/{ada.id}"), headers=eva.tenant.auth)).json()
    assert (native["first_name"], native["last_name"]) == ("Ada", "Lovelace")


async def test_unknown_users_are_404(client: httpx.AsyncClient, eva: Eva, other_tenant: object) -> None:
    missing = await client.get(eva.path("/users/000000000000000000000000"), headers=eva.tenant.auth)
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "NOT_FOUND"


async def test_activate_and_deactivate(client: httpx.AsyncClient, eva: Eva) -> None:
    user = await eva.create_user(email="act@example.com")
    off = await client.put(
        eva.path("/users/activate"), json={"uuid": user["uuid"], "active": False}, headers=eva.tenant.auth
    )
    assert off.status_code == 200
    assert off.json()["active"] is False
    login = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "act@example.com", "password": "Secret1"}
    )
    assert login.status_code == 400
    on = await client.put(
        eva.path("/users/activate"), json={"uuid": user["uuid"], "active": True}, headers=eva.tenant.auth
    )
    assert on.json()["active"] is True
    assert await token_for(client, "act@example.com", "Secret1")


async def test_delete_a_user(client: httpx.AsyncClient, eva: Eva) -> None:
    user = await eva.create_user(email="gone@example.com")
    deleted = await client.delete(eva.path(f"/users/{user['uuid']}"), headers=eva.tenant.auth)
    assert deleted.status_code == 204
    assert (await client.get(eva.path(f"/users/{user['uuid']}"), headers=eva.tenant.auth)).status_code == 404


async def test_identity_provider_returns_the_caller(client: httpx.AsyncClient, eva: Eva) -> None:
    await eva.create_user(
        email="me@example.com",
        environments=[{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-2"}]}],
    )
    token = await token_for(client, "me@example.com", "Secret1")
    me = await client.get(eva.path("/users/identity-provider"), headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == "me@example.com"
    assert me.json()["rules"]["deletable"] is False


async def test_viewers_may_not_create_users_and_strangers_get_404(
    client: httpx.AsyncClient, eva: Eva, other_tenant: object
) -> None:
    await eva.create_user(
        email="v@example.com",
        environments=[{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}],
    )
    viewer = bearer(await token_for(client, "v@example.com", "Secret1"))
    refused = await client.post(eva.path("/users"), json={"name": "X", "email": "x@example.com"}, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "FORBIDDEN"
    stranger = bearer(other_tenant.owner.token)  # type: ignore[attr-defined]
    assert (await client.get(eva.path("/users"), headers=stranger)).status_code == 404
    anonymous = await client.get(eva.path("/users"))
    assert anonymous.status_code == 401
    assert anonymous.json()["errorCode"] == "UNAUTHORIZED"


async def test_request_id_is_echoed(client: httpx.AsyncClient, eva: Eva) -> None:
    response = await client.get(eva.path("/users"), headers={**eva.tenant.auth, "x-request-id": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
