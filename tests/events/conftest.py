from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from tenantry.app import create_app
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
