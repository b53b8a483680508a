"""GET /orgs/{org}/events and GET /events: catalog events, oldest first, after a given event."""

from datetime import timedelta
from typing import Any

import httpx

from tenantry.core.audit.models import AuditEvent
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.events.conftest import publish
from tests.factories import Tenant, bearer
from tests.oidc.flow import app_token


async def _feed(
    client: httpx.AsyncClient, runtime: Runtime, path: str, auth: dict[str, str], **query: Any
) -> dict[str, Any]:
    await publish(runtime)
    response = await client.get(path, params=query, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _types(page: dict[str, Any]) -> list[str]:
    return [item["type"] for item in page["items"]]


async def test_org_feed_lists_catalog_events_with_actor_and_target(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    member = await tenant.add_user("fed@example.com")
    await client.put(tenant.path(f"/users/{member.id}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth)
    await client.post(tenant.path(f"/users/{member.id}/impersonate"), headers=tenant.auth)  # audit only
    page = await _feed(client, runtime, tenant.path("/events"), tenant.auth)
    assert _types(page)[-3:] == ["user.created", "user.signed_in", "membership.roles_changed"]
    created = page["items"][-3]
    assert set(created) == {"id", "type", "timestamp", "org_id", "actor", "data"}
    assert created["org_id"] == tenant.id
    assert created["actor"]["user_id"] == tenant.owner.id
    assert created["actor"]["request_id"]
    assert created["data"]["target"] == {"type": "user", "id": member.id}
    assert page["items"][-1]["data"]["details"] == {"roles": ["viewer"]}
    assert page["next_after"] == page["items"][-1]["id"]
    assert page["has_more"] is False


async def test_an_event_names_the_application_whose_token_acted(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, root_token: str
) -> None:
    client_id, token = await app_token(client, root_token, tenant.slug, tenant.owner.email)
    member = await tenant.add_user()
    await client.post(tenant.path(f"/users/{member.id}/disable"), headers=bearer(token))
    await client.post(tenant.path(f"/users/{member.id}/enable"), headers=tenant.auth)
    page = await _feed(client, runtime, tenant.path("/events"), tenant.auth, type=["user.disabled", "user.enabled"])
    assert [(item["type"], item["actor"]["user_id"], item["actor"]["client_id"]) for item in page["items"]] == [
        ("user.disabled", tenant.owner.id, client_id),
        ("user.enabled", tenant.owner.id, None),
    ]


async def test_feed_continues_after_the_event_given(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    for index in range(4):
        await tenant.add_user(f"paged{index}@example.com", password=None)
    whole = await _feed(client, runtime, tenant.path("/events"), tenant.auth, limit=200)
    seen: list[str] = []
    after: str | None = None
    while True:
        query: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        page = await _feed(client, runtime, tenant.path("/events"), tenant.auth, **query)
        seen.extend(item["id"] for item in page["items"])
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert seen == [item["id"] for item in whole["items"]]
    quiet = await _feed(client, runtime, tenant.path("/events"), tenant.auth, after=after)
    assert (quiet["items"], quiet["next_after"], quiet["has_more"]) == ([], after, False)


async def test_feed_filters_by_type(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    await tenant.add_user()
    page = await _feed(
        client, runtime, tenant.path("/events"), tenant.auth, type=["user.created", "organization.created"]
    )
    assert set(_types(page)) == {"user.created", "organization.created"}


async def test_feed_refuses_unknown_types_and_cursors(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    elsewhere = (await _feed(client, runtime, other_tenant.path("/events"), other_tenant.auth))["items"][0]["id"]
    for query in ({"type": "user.exploded"}, {"after": "nonsense"}, {"after": elsewhere}, {"limit": 201}):
        response = await client.get(tenant.path("/events"), params=query, headers=tenant.auth)
        assert response.status_code == 422, query


async def test_org_feed_holds_only_the_orgs_events(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    await other_tenant.add_user("elsewhere@example.com")
    page = await _feed(client, runtime, tenant.path("/events"), tenant.auth, limit=200)
    assert {item["org_id"] for item in page["items"]} == {tenant.id}


async def test_reading_the_feed_needs_events_read(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add_user(roles=["supervisor"])
    assert (await client.get(tenant.path("/events"), headers=supervisor.auth)).status_code == 403
    assert (await client.get("/api/v1/events", headers=tenant.auth)).status_code == 403


async def test_platform_feed_holds_every_orgs_events(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    page = await _feed(client, runtime, "/api/v1/events", bearer(root_token), type="organization.created")
    assert [item["org_id"] for item in page["items"]] == [tenant.id, other_tenant.id]


async def test_an_event_whose_transaction_committed_late_is_not_left_behind_the_cursor(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """Ids and times are taken when a row is written, not when it commits: a poller that has passed them
    still gets the event, listed after what it has read, as dispatching numbers events in commit order."""
    await tenant.add_user()
    read = await _feed(client, runtime, tenant.path("/events"), tenant.auth, limit=200)
    cursor = read["next_after"]
    late = AuditEvent(
        id="0" * 23 + "1",  # written before everything the poller has read, committed only now
        org_id=tenant.id,
        action="user.updated",
        target_type="user",
        target_id=tenant.owner.id,
        created_at=utcnow() - timedelta(minutes=5),
    )
    async with runtime.database.transaction() as session:
        session.add(late)
    await tenant.add_user()
    after = await _feed(client, runtime, tenant.path("/events"), tenant.auth, after=cursor)
    assert [(item["id"], item["type"]) for item in after["items"][:1]] == [("0" * 23 + "1", "user.updated")]
    assert _types(after)[1:] == ["user.created", "user.signed_in"]


async def test_an_event_not_yet_dispatched_is_not_listed_yet(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    read = await _feed(client, runtime, tenant.path("/events"), tenant.auth, limit=200)
    await tenant.add_user(password=None)
    response = await client.get(tenant.path("/events"), params={"after": read["next_after"]}, headers=tenant.auth)
    assert response.json()["items"] == []
    after = await _feed(client, runtime, tenant.path("/events"), tenant.auth, after=read["next_after"])
    assert _types(after) == ["user.created"]
