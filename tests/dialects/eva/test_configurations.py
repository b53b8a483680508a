"""eva's configurations: the caller's settings, organization-wide and per bot."""

import httpx

from tests.dialects.eva.conftest import Eva
from tests.factories import bearer, token_for


async def _viewer_of_bot_1(client: httpx.AsyncClient, eva: Eva) -> dict[str, str]:
    await eva.create_user(
        email="conf@example.com",
        environments=[{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}],
    )
    return bearer(await token_for(client, "conf@example.com", "Secret1"))


async def test_save_then_read_the_organization_wide_configuration(client: httpx.AsyncClient, eva: Eva) -> None:
    auth = await _viewer_of_bot_1(client, eva)
    assert (await client.get(eva.path("/configurations/userHasConf"), headers=auth)).json() is False
    missing = await client.get(eva.path("/configurations"), headers=auth)
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "NOT_FOUND"
    created = await client.post(eva.path("/configurations"), json={"configuration": {"theme": "dark"}}, headers=auth)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"uuid", "orgUUID", "userUUID", "botUUID", "configuration", "createdAt", "updatedAt"}
    assert (body["botUUID"], body["configuration"], body["orgUUID"]) == (None, {"theme": "dark"}, eva.tenant.id)
    replaced = await client.post(eva.path("/configurations"), json={"configuration": {"theme": "light"}}, headers=auth)
    assert replaced.status_code == 200
    assert replaced.json()["uuid"] == body["uuid"]
    assert (await client.get(eva.path("/configurations"), headers=auth)).json()["configuration"] == {"theme": "light"}
    assert (await client.get(eva.path("/configurations/userHasConf"), headers=auth)).json() is True


async def test_bot_configurations_are_separate_and_need_a_role_on_the_bot(client: httpx.AsyncClient, eva: Eva) -> None:
    auth = await _viewer_of_bot_1(client, eva)
    assert (await client.get(eva.path("/configurations/bot-1/userHasConf"), headers=auth)).json() is False
    saved = await client.post(
        eva.path("/configurations"), json={"botUUID": "bot-1", "configuration": {"voice": "calm"}}, headers=auth
    )
    assert saved.status_code == 201
    assert saved.json()["botUUID"] == "bot-1"
    assert (await client.get(eva.path("/configurations/bot-1"), headers=auth)).json()["configuration"] == {
        "voice": "calm"
    }
    assert (await client.get(eva.path("/configurations/bot-1/userHasConf"), headers=auth)).json() is True
    assert (await client.get(eva.path("/configurations/userHasConf"), headers=auth)).json() is False
    other_bot = await client.get(eva.path("/configurations/bot-2/userHasConf"), headers=auth)
    assert other_bot.status_code == 403
    unknown = await client.get(eva.path("/configurations/no-such-bot"), headers=auth)
    assert unknown.status_code == 404
    not_a_bot = await client.get(eva.path("/configurations/env-1/userHasConf"), headers=auth)
    assert not_a_bot.status_code == 404


async def test_an_environment_grant_covers_its_bots(client: httpx.AsyncClient, eva: Eva) -> None:
    await eva.create_user(
        email="sup@example.com", environments=[{"role": "SUPERVISOR", "environment": {"uuid": "env-1"}}]
    )
    auth = bearer(await token_for(client, "sup@example.com", "Secret1"))
    for bot in ("bot-1", "bot-2"):
        response = await client.post(
            eva.path("/configurations"), json={"botUUID": bot, "configuration": {}}, headers=auth
        )
        assert response.status_code == 201
    elsewhere = await client.post(
        eva.path("/configurations"), json={"botUUID": "bot-2b", "configuration": {}}, headers=auth
    )
    assert elsewhere.status_code == 403


async def test_configurations_belong_to_the_caller(client: httpx.AsyncClient, eva: Eva) -> None:
    auth = await _viewer_of_bot_1(client, eva)
    await client.post(eva.path("/configurations"), json={"configuration": {"mine": True}}, headers=auth)
    owner_has = await client.get(eva.path("/configurations/userHasConf"), headers=eva.tenant.auth)
    assert owner_has.json() is False


async def test_configuration_must_be_a_bounded_json_object(client: httpx.AsyncClient, eva: Eva) -> None:
    auth = await _viewer_of_bot_1(client, eva)
    for body in ({"configuration": [1, 2]}, {"configuration": {"big": "x" * 70_000}}, {}):
        response = await client.post(eva.path("/configurations"), json=body, headers=auth)
        assert response.status_code == 422
        assert response.json()["details"][0]["fieldName"].startswith("configuration")
    broken = await client.post(
        eva.path("/configurations"), content=b"{not json", headers={**auth, "content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["errorCode"] == "BAD_REQUEST"
