"""GET /orgs/{org}/audit-events: the organization's events, filtered and paged."""

from datetime import UTC, datetime, timedelta

import httpx

from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer, make_tenant, prove_credentials
from tests.oidc.flow import app_token

EVENTS = "/audit-events"


async def _events(client: httpx.AsyncClient, tenant: Tenant, **query: str | int) -> dict[str, object]:
    response = await client.get(tenant.path(EVENTS), params=query, headers=tenant.auth)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _actions(page: dict[str, object]) -> list[str]:
    items = page["items"]
    assert isinstance(items, list)
    return [item["action"] for item in items]


async def test_events_are_listed_oldest_first_and_filtered(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    member = await tenant.add_user("audited@example.com")
    await client.put(tenant.path(f"/users/{member.id}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth)
    await other_tenant.add_user("elsewhere@example.com")
    everything = await _events(client, tenant)
    assert _actions(everything)[-3:] == ["user.created", "user.signed_in", "member.roles_set"]
    assert "elsewhere@example.com" not in str(everything)
    assert _actions(await _events(client, tenant, action="member.roles_set")) == ["member.roles_set"]
    assert _actions(await _events(client, tenant, target=member.id)) == [
        "user.created",
        "user.signed_in",
        "member.roles_set",
    ]
    by_owner = await _events(client, tenant, actor=tenant.owner.id)
    assert set(_actions(by_owner)) == {"user.created", "user.signed_in", "member.roles_set"}
    assert _actions(await _events(client, tenant, since=(datetime.now(UTC) + timedelta(minutes=5)).isoformat())) == []
    naive_past = (datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    assert len(_actions(await _events(client, tenant, since=naive_past))) == len(_actions(everything))


async def test_events_name_the_impersonator_and_the_partner(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user(roles=["admin"])
    token = (await client.post(tenant.path(f"/users/{member.id}/impersonate"), headers=tenant.auth)).json()
    await client.patch(
        tenant.path(f"/users/{member.id}"), json={"last_name": "X"}, headers=bearer(token["access_token"])
    )
    [event] = (await _events(client, tenant, action="user.updated"))["items"]  # type: ignore[misc]
    assert (event["actor_user_id"], event["impersonator_id"], event["partner_org_id"]) == (
        member.id,
        tenant.owner.id,
        None,
    )
    assert _actions(await _events(client, tenant, actor=tenant.owner.id))[-2:] == ["user.impersonated", "user.updated"]


async def test_events_name_the_application_whose_token_acted(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    client_id, token = await app_token(client, root_token, tenant.slug, tenant.owner.email)
    member = await tenant.add_user()
    await client.post(tenant.path(f"/users/{member.id}/disable"), headers=bearer(token))
    await client.post(tenant.path(f"/users/{member.id}/enable"), headers=tenant.auth)  # the owner's own token
    [disabled] = (await _events(client, tenant, action="member.disabled"))["items"]  # type: ignore[misc]
    [enabled] = (await _events(client, tenant, action="member.enabled"))["items"]  # type: ignore[misc]
    assert (disabled["actor_user_id"], disabled["actor_client_id"]) == (tenant.owner.id, client_id)
    assert (enabled["actor_user_id"], enabled["actor_client_id"]) == (tenant.owner.id, None)
    assert _actions(await _events(client, tenant, actor=client_id)) == ["member.disabled"]


async def test_an_impersonation_is_told_to_every_organization_the_account_belongs_to(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    third_tenant = await make_tenant(client, root_token, "initech")
    member = await tenant.add_user("shared@example.com")
    await prove_credentials(runtime, member.id)
    joined = await client.post(
        other_tenant.path("/members"), json={"user_id": member.id}, headers=bearer(root_token)
    )  # a platform admin attaches directly
    assert joined.status_code == 201, joined.text
    invited = await client.post(third_tenant.path("/members"), json={"user_id": member.id}, headers=third_tenant.auth)
    assert invited.json()["membership_status"] == "invited"  # not accepted: told nothing
    assert (await client.post(tenant.path(f"/users/{member.id}/impersonate"), headers=tenant.auth)).status_code == 200
    [here] = (await _events(client, tenant, action="user.impersonated"))["items"]  # type: ignore[misc]
    [there] = (await _events(client, other_tenant, action="user.impersonated"))["items"]  # type: ignore[misc]
    for event in (here, there):
        assert (event["actor_user_id"], event["impersonator_id"], event["target_id"]) == (
            tenant.owner.id,
            None,
            member.id,
        )
    assert there["details"]["organization"] == tenant.id
    assert _actions(await _events(client, third_tenant, action="user.impersonated")) == []


async def test_pages_follow_the_cursor(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for index in range(5):
        await tenant.add_user(f"paged{index}@example.com")
    seen: list[str] = []
    page = await _events(client, tenant, action="user.created", limit=2)
    while True:
        items = page["items"]
        assert isinstance(items, list)
        seen.extend(item["id"] for item in items)
        if page["next_cursor"] is None:
            break
        page = await _events(client, tenant, action="user.created", limit=2, cursor=str(page["next_cursor"]))
    assert len(seen) == 6  # the owner and five users
    whole = (await _events(client, tenant, action="user.created", limit=200))["items"]
    assert seen == [item["id"] for item in whole]  # type: ignore[union-attr]


async def test_reading_the_log_needs_audit_read(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add_user(roles=["supervisor"])
    assert (await client.get(tenant.path(EVENTS), headers=supervisor.auth)).status_code == 403


async def test_bad_filters_are_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for query in ({"since": "yesterday"}, {"cursor": "nonsense"}, {"limit": "0"}, {"action": "x" * 65}):
        response = await client.get(tenant.path(EVENTS), params=query, headers=tenant.auth)
        assert response.status_code == 422, query


async def test_order_desc_lists_newest_first_and_pages_backwards(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for index in range(3):
        await tenant.add_user(f"recent{index}@example.com", password=None)
    oldest_first = _actions(await _events(client, tenant, limit=200))
    seen: list[str] = []
    page = await _events(client, tenant, order="desc", limit=2)
    while True:
        seen.extend(_actions(page))
        if page["next_cursor"] is None:
            break
        page = await _events(client, tenant, order="desc", limit=2, cursor=str(page["next_cursor"]))
    assert seen == list(reversed(oldest_first))
