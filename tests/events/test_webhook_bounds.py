"""One organization's webhooks cost the others nothing: each organization has a bounded number of endpoints, and
dispatching a batch of events reads only the endpoints of the organizations in it (and the platform's)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import event, select

from tenantry.app import create_app
from tenantry.core.webhooks.dispatch import dispatch_batch
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.runtime import Runtime
from tests.events.conftest import publish, with_settings
from tests.factories import Tenant, bearer

CAP = 3


@pytest.fixture
async def capped(hooks_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=with_settings(hooks_runtime, webhooks_per_org=CAP))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def _create(client: httpx.AsyncClient, tenant: Tenant, number: int) -> httpx.Response:
    body = {"url": f"https://hooks.example.com/{number}", "events": ["organization.deleted"]}
    return await client.post(tenant.path("/webhooks"), json=body, headers=tenant.auth)


async def test_an_organization_has_at_most_the_configured_number_of_webhooks(
    capped: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = [await _create(capped, tenant, number) for number in range(CAP)]
    assert [response.status_code for response in created] == [201] * CAP
    refused = await _create(capped, tenant, CAP)
    assert refused.status_code == 422, refused.text
    assert f"at most {CAP} webhooks" in refused.json()["detail"]
    assert (await _create(capped, other_tenant, 0)).status_code == 201  # another organization's own allowance
    deleted = await capped.delete(tenant.path(f"/webhooks/{created[0].json()['id']}"), headers=tenant.auth)
    assert deleted.status_code == 204
    assert (await _create(capped, tenant, CAP)).status_code == 201


async def test_dispatch_reads_only_the_endpoints_of_the_batchs_organizations_and_the_platforms(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    for number in range(5):
        assert (await _create(hooks, tenant, number)).status_code == 201
    own = await hooks.post(
        other_tenant.path("/webhooks"),
        json={"url": "https://hooks.example.com/own", "events": ["user.created"]},
        headers=other_tenant.auth,
    )
    body = {"url": "https://hooks.example.com/platform", "events": ["user.created"]}
    platform = await hooks.post("/api/v1/webhooks", json=body, headers=bearer(root_token))
    assert own.status_code == platform.status_code == 201
    await publish(hooks_runtime)
    await other_tenant.add_user(password=None)
    async with hooks_runtime.database.transaction() as session:
        loaded: list[object] = []
        event.listen(session.sync_session, "loaded_as_persistent", lambda _session, item: loaded.append(item))
        assert await dispatch_batch(session, 200) > 0
        read = {item.id for item in loaded if isinstance(item, WebhookEndpoint)}
        everything = set(await session.scalars(select(WebhookEndpoint.id)))
    assert read == {own.json()["id"], platform.json()["id"]}
    assert len(everything) == 7
