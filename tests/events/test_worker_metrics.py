"""A `tenantry worker` apart from the API (TENANTRY_OUTBOX_IN_PROCESS=false, as compose runs it) serves its own
/metrics on TENANTRY_WORKER_METRICS_PORT: the webhook deliveries it makes are counted where Prometheus can
scrape them, behind TENANTRY_METRICS_TOKEN like the API's."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.events.conftest import SECRET_KEY
from tests.factories import Tenant, bearer
from tests.live_server import free_port
from tests.webhook_receiver import Receiver, webhook_receiver

TOKEN = "scrape-the-worker-please"


@pytest.fixture
def worker_metrics(database_url: str) -> Iterator[str]:
    """A real worker process delivering the test's database's outbox; the URL of its /metrics."""
    port = free_port()
    env = {
        **os.environ,
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_OUTBOX_IN_PROCESS": "false",
        "TENANTRY_OUTBOX_POLL_SECONDS": "0.1",
        "TENANTRY_OUTBOX_RETRY_BASE_SECONDS": "0.1",
        "TENANTRY_SECRET_KEY": SECRET_KEY,
        "TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "TENANTRY_WORKER_METRICS_PORT": str(port),
        "TENANTRY_METRICS_TOKEN": TOKEN,
        "TENANTRY_LOG_LEVEL": "WARNING",
    }
    for unset in ("TENANTRY_SMTP_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(unset, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tenantry", "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0].decode()
            assert time.monotonic() < deadline, "the worker's /metrics did not answer within 60 s"
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        # uvicorn stops gracefully (the worker's lifespan ends), then ends the process by the signal it caught.
        assert process.returncode in (0, -signal.SIGTERM), output.decode()


def _deliveries(text: str) -> dict[str, float]:
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tenantry_webhook_deliveries"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not deliver in time"
        await asyncio.sleep(0.1)


async def test_a_separate_worker_serves_the_webhook_deliveries_it_made_on_its_own_metrics_port(
    hooks: httpx.AsyncClient, tenant: Tenant, worker_metrics: str
) -> None:
    with webhook_receiver(Receiver(statuses=[503])) as receiver:
        body = {"url": receiver.url, "events": ["user.created"]}
        created = await hooks.post(tenant.path("/webhooks"), json=body, headers=tenant.auth)
        assert created.status_code == 201, created.text
        await tenant.add_user(password=None)
        await _until(lambda: len(receiver.received) == 2)  # refused once (503), then delivered on the retry

    async with httpx.AsyncClient() as scraper:
        health = await scraper.get(worker_metrics.replace("/metrics", "/healthz"))  # public, for the healthcheck
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert (await scraper.get(worker_metrics)).status_code == 401
        assert (await scraper.get(worker_metrics, headers=bearer("wrong"))).status_code == 401
        scrape = await scraper.get(worker_metrics, headers=bearer(TOKEN))
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert _deliveries(scrape.text) == {"failed": 1, "succeeded": 1}
    families = {family.name for family in text_string_to_metric_families(scrape.text)}
    assert {"tenantry_build_info", "tenantry_outbox_depth", "tenantry_db_pool_connections_in_use"} <= families
