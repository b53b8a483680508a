"""The webhook lanes are shared between organizations: one with many endpoints (or a backlog) gets a bounded
share of them, and the lanes are handed out to organizations in turn, the platform's endpoints counting as one."""

import asyncio
import threading

import httpx
import pytest

from tenantry.core.webhooks import service as webhooks
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.db.ids import new_id
from tenantry.runtime import Runtime
from tests.events.conftest import deliveries_held, publish
from tests.events.test_slow_webhooks import _eventually, _pass_in_hand, _patient_worker, _subscribe
from tests.factories import Tenant
from tests.webhook_receiver import Receiver, webhook_receiver

PLATFORM = None
"""The org_id of the platform's endpoints."""


@pytest.mark.serial  # waits on a worker and receiver threads: other tests' load could slow them
async def test_one_orgs_slow_endpoints_leave_a_lane_for_another_orgs_webhook(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Before, acme's endpoints to a receiver answering just before the timeout took every lane (as many
    endpoints as lanes; nothing limits an organization's endpoints), and globex's webhook waited for them."""
    hold = threading.Event()
    worker = _patient_worker(hooks_runtime, webhook_concurrency=2)  # at most one lane for each organization
    with webhook_receiver(Receiver(hold=hold)) as tarpit, webhook_receiver() as prompt:
        for _ in range(2):
            await _subscribe(hooks, tenant, tarpit.url)
        await _subscribe(hooks, other_tenant, prompt.url)
        await tenant.add_user()  # acme's two deliveries are due first
        await other_tenant.add_user()
        await publish(hooks_runtime)
        async with _pass_in_hand(worker, hold):
            assert await _eventually(lambda: len(tarpit.received) == 1), "acme's first delivery never started"
            assert await _eventually(lambda: len(prompt.received) == 1), "globex's webhook waited for acme's"
            await asyncio.sleep(0.5)  # room for acme's second delivery, if it were (wrongly) started
            assert len(tarpit.received) == 1  # it waits for acme's lane
    assert len(tarpit.received) == 2


async def _due(runtime: Runtime, *owners: str | None) -> None:
    """A webhook message due for a new endpoint of each of ``owners``, in this order (the first is the oldest)."""
    for org_id in owners:
        async with runtime.database.transaction() as session:
            webhooks.enqueue(session, WebhookEndpoint(id=new_id(), org_id=org_id), new_id())


async def test_an_organization_gets_no_more_lanes_than_its_share(runtime: Runtime, tenant: Tenant) -> None:
    """By default a quarter of the lanes (2 of 8) for each organization, the platform's endpoints counting as one.
    Before, every endpoint due got a lane while lanes were free: 6 here."""
    await _due(runtime, PLATFORM, PLATFORM, PLATFORM, tenant.id, tenant.id, tenant.id)
    async with deliveries_held(runtime, 4) as deliveries:
        assert deliveries.lanes_of() == {PLATFORM: 2, tenant.id: 2}
    assert len(deliveries.started) == 6


async def test_lanes_are_handed_to_organizations_in_turn_not_to_the_oldest_backlog(
    runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Two lanes, both of which acme may take: acme's older deliveries do not keep globex's waiting. Before, the
    oldest due took the free lanes, all acme's."""
    await _due(runtime, tenant.id, tenant.id, tenant.id, other_tenant.id)
    settings = {"webhook_concurrency": 2, "webhook_concurrency_per_org": 2}
    async with deliveries_held(runtime, 2, **settings) as deliveries:
        assert deliveries.lanes_of() == {tenant.id: 1, other_tenant.id: 1}
    assert len(deliveries.started) == 4
