"""A slow webhook receiver holds up only its own endpoint: emails, and other endpoints' deliveries, go out while it
takes its time (a receiver that answers 2xx just before the timeout is never disabled)."""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import select

from tenantry.core.outbox.models import PENDING, OutboxMessage
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.events.conftest import publish, with_settings
from tests.factories import Tenant
from tests.mailbox import CollectingSink
from tests.webhook_receiver import Receiver, webhook_receiver

WAIT_SECONDS = 10.0
"""How long a test waits for what must happen while a receiver is held (far longer than it takes)."""


async def _subscribe(client: httpx.AsyncClient, tenant: Tenant, url: str) -> None:
    body = {"url": url, "events": ["user.created"]}
    response = await client.post(tenant.path("/webhooks"), json=body, headers=tenant.auth)
    assert response.status_code == 201, response.text


async def _waiting_webhooks(runtime: Runtime) -> int:
    """Webhook messages waiting for a worker: pending, and claimed by none."""
    unclaimed = (OutboxMessage.kind == "webhook", OutboxMessage.status == PENDING, OutboxMessage.locked_until.is_(None))
    async with runtime.database.transaction(write=False) as session:
        return len(list(await session.scalars(select(OutboxMessage.id).where(*unclaimed))))


async def _eventually(condition: Callable[[], bool]) -> bool:
    for _ in range(int(WAIT_SECONDS / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def _patient_worker(runtime: Runtime, mail: CollectingSink | None = None, **overrides: object) -> OutboxWorker:
    """A worker that waits 30 s for an answer: a held receiver holds its delivery in hand as long as a test needs."""
    settings = {"webhook_timeout_seconds": 30.0, **overrides}
    return OutboxWorker(with_settings(runtime, **settings), email_sink=mail or CollectingSink())


@asynccontextmanager
async def _pass_in_hand(worker: OutboxWorker, hold: threading.Event) -> AsyncIterator[None]:
    """A pass of ``worker`` runs while the block does; then the held receiver answers, and the pass ends."""
    task = asyncio.create_task(worker.run_once())
    try:
        yield
    finally:
        hold.set()
        try:
            await asyncio.wait_for(task, 60)
        finally:
            task.cancel()


@pytest.mark.serial  # waits on a worker and a receiver thread: other tests' load could slow both
async def test_a_slow_endpoint_holds_up_neither_emails_nor_another_orgs_webhooks(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Before, the worker delivered its messages one after another: acme's endpoint, answering each delivery just
    within the timeout, held globex's webhook and its member's reset email for as long as it liked."""
    hold, mail = threading.Event(), CollectingSink()
    worker = _patient_worker(hooks_runtime, mail)
    with webhook_receiver(Receiver(hold=hold)) as slow, webhook_receiver() as prompt:
        await _subscribe(hooks, tenant, slow.url)
        await _subscribe(hooks, other_tenant, prompt.url)
        for _ in range(2):
            await tenant.add_user()
        victim = await other_tenant.add_user()
        await publish(hooks_runtime)  # acme's two deliveries, then globex's, are due first
        reset = await hooks.post(other_tenant.path(f"/users/{victim.id}/password-reset"), headers=other_tenant.auth)
        assert reset.status_code == 202
        async with _pass_in_hand(worker, hold):
            assert await _eventually(lambda: len(slow.received) == 1), "acme's first delivery never started"
            assert await _eventually(lambda: len(prompt.received) == 1), "globex's webhook waited for acme's"
            assert await _eventually(lambda: victim.email in {m.to for m in mail.sent}), "the email waited too"
            assert len(slow.received) == 1  # acme's second delivery waits for its first: one at a time per endpoint
    assert len(slow.received) == 2


@asynccontextmanager
async def _held_deliveries(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, *, endpoints: int, started: int, **overrides: object
) -> AsyncIterator[Receiver]:
    """``endpoints`` endpoints of one receiver that holds every request and a user created for each of them; the
    block runs once ``started`` deliveries are in hand, with the worker's pass (``overrides`` its settings)."""
    hold = threading.Event()
    worker = _patient_worker(runtime, **overrides)
    with webhook_receiver(Receiver(hold=hold)) as slow:
        for _ in range(endpoints):
            await _subscribe(client, tenant, slow.url)
        await tenant.add_user()
        await publish(runtime)
        async with _pass_in_hand(worker, hold):
            assert await _eventually(lambda: len(slow.received) == started)
            yield slow


@pytest.mark.serial  # as above
async def test_deliveries_at_once_are_bounded_by_the_webhook_concurrency(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant
) -> None:
    bound = {"webhook_concurrency": 2, "webhook_concurrency_per_org": 2}  # (one organization's endpoints here)
    async with _held_deliveries(hooks, hooks_runtime, tenant, endpoints=3, started=2, **bound) as slow:
        await asyncio.sleep(0.5)  # room for a third delivery, if one were (wrongly) started
        assert len(slow.received) == 2
    assert len(slow.received) == 3


@pytest.mark.serial  # as above
async def test_an_endpoint_gets_one_delivery_at_a_time_from_a_worker(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant
) -> None:
    held = _held_deliveries(hooks, hooks_runtime, tenant, endpoints=1, started=1, outbox_poll_seconds=0.05)
    async with held as slow:
        await tenant.add_user()  # the pass hands the event out at its next poll: due while the first is in hand
        for _ in range(int(WAIT_SECONDS / 0.02)):
            if await _waiting_webhooks(hooks_runtime):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # polls enough to claim and start it, if it were (wrongly) claimed
        assert (len(slow.received), await _waiting_webhooks(hooks_runtime)) == (1, 1)
    assert len(slow.received) == 2


async def test_two_workers_deliver_each_webhook_once(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    with webhook_receiver() as first, webhook_receiver() as second, webhook_receiver() as globex:
        for owner, receiver in ((tenant, first), (tenant, second), (other_tenant, globex)):
            await _subscribe(hooks, owner, receiver.url)
        for _ in range(3):
            await tenant.add_user(password=None)
            await other_tenant.add_user(password=None)
        await publish(hooks_runtime)
        workers = [OutboxWorker(hooks_runtime, email_sink=CollectingSink()) for _ in range(2)]
        await asyncio.gather(*(worker.run_once() for worker in workers))
    for receiver in (first, second, globex):
        ids = [received.headers["webhook-id"] for received in receiver.received]
        assert len(ids) == len(set(ids)) == 3
