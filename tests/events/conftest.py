import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from tenantry.app import create_app
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import OutboxMessage
from tenantry.core.webhooks.dispatch import dispatch_batch
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.mailbox import CollectingSink

SECRET_KEY = "test-secret-key-for-webhook-secrets-0123456789"  # at least 32 characters


def with_settings(runtime: Runtime, **overrides: object) -> Runtime:
    settings = runtime.settings.model_copy(update=overrides)
    return Runtime(**{**runtime.__dict__, "settings": settings})


@pytest.fixture
def hooks_runtime(runtime: Runtime) -> Runtime:
    """Webhooks allowed to loopback receivers (TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS), with a secret key."""
    return with_settings(
        runtime,
        secret_key=SecretStr(SECRET_KEY),
        webhook_allow_private_urls=True,
        webhook_timeout_seconds=5.0,
    )


@pytest.fixture
async def hooks(hooks_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime=hooks_runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def mail() -> CollectingSink:
    return CollectingSink()


@pytest.fixture
def worker(hooks_runtime: Runtime, mail: CollectingSink) -> OutboxWorker:
    return OutboxWorker(hooks_runtime, email_sink=mail)


async def publish(runtime: Runtime) -> None:
    """What the worker does first on each pass: dispatch new events, which numbers them for the feeds."""
    while True:
        async with runtime.database.transaction() as session:
            if not await dispatch_batch(session, 500):
                return


class HeldDeliveries:
    """Stands in for the worker's webhook deliverer: each delivery is in hand until ``release``, then sent."""

    def __init__(self, runtime: Runtime) -> None:
        self._database = runtime.database
        self.started: list[OutboxMessage] = []
        self.release = asyncio.Event()
        self._started_more = asyncio.Condition()

    async def deliver(self, message: OutboxMessage) -> None:
        async with self._started_more:
            self.started.append(message)
            self._started_more.notify_all()
        await self.release.wait()
        async with self._database.transaction() as session:
            await outbox.mark_sent(session, message.id)

    async def until_started(self, count: int) -> None:
        async with self._started_more:
            await self._started_more.wait_for(lambda: len(self.started) >= count)

    def lanes_of(self) -> Counter[str | None]:
        """How many deliveries are in hand for each organization."""
        return Counter(message.org_id for message in self.started)


@asynccontextmanager
async def deliveries_held(runtime: Runtime, started: int, **settings: object) -> AsyncIterator[HeldDeliveries]:
    """A worker's pass (``settings`` its own) with its webhook deliveries held; the block runs once ``started``
    are in hand and the pass has polled again a few times, then the deliveries go out and the pass ends."""
    worker = OutboxWorker(with_settings(runtime, outbox_poll_seconds=0.02, **settings), email_sink=CollectingSink())
    deliveries = worker._webhooks = HeldDeliveries(runtime)  # type: ignore[assignment]
    task = asyncio.create_task(worker.run_once())
    try:
        await asyncio.wait_for(deliveries.until_started(started), 10)
        await asyncio.sleep(0.3)  # polls enough to start more, if more were (wrongly) started
        yield deliveries
    finally:
        deliveries.release.set()
        try:
            await asyncio.wait_for(task, 30)
        finally:
            task.cancel()
