"""/metrics under `tenantry serve --workers 2`: whichever worker answers a scrape reports every worker's
requests (prometheus_client's multiprocess mode), not only its own."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live_server import free_port

BATCH = 16
MOST_REQUESTS = 4_000


def _healthz_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tenantry_http_requests"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["route"] == "/healthz"
    )


@pytest.fixture
def counted_in(tmp_path: Path) -> Path:
    """The operator's ``PROMETHEUS_MULTIPROC_DIR``: each worker process counts in files of its own there."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    return directory


@pytest.fixture
def two_workers(tmp_path: Path, counted_in: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "TENANTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.db'}",
        "TENANTRY_BASE_URL": f"http://127.0.0.1:{port}",
        "TENANTRY_LOG_LEVEL": "WARNING",
        "TENANTRY_OUTBOX_IN_PROCESS": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(counted_in),
    }
    command = [str(Path(sys.executable).with_name("tenantry")), "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "tenantry serve exited"
            assert time.monotonic() < deadline, "tenantry serve --workers 2 did not answer within 60 s"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_every_scrape_counts_the_requests_of_every_worker(two_workers: str, counted_in: Path) -> None:
    def fresh_connection(_: int) -> int:
        with httpx.Client(base_url=two_workers, headers={"Connection": "close"}) as client:
            return client.get("/healthz").status_code

    sent = 0
    with ThreadPoolExecutor(max_workers=BATCH) as pool:
        # The kernel may hand one worker every connection for a while: send until both have answered some (each
        # counts in a file of its own), so that no single worker's count is the total.
        while len(list(counted_in.glob("counter_*.db"))) < 2:
            assert sent < MOST_REQUESTS, "one worker answered every request"
            assert list(pool.map(fresh_connection, range(BATCH))) == [200] * BATCH
            sent += BATCH
    scrapes = []
    for _ in range(8):
        with httpx.Client(base_url=two_workers, headers={"Connection": "close"}) as client:
            scrape = client.get("/metrics")
        assert scrape.status_code == 200
        scrapes.append(_healthz_count(scrape.text))
    assert scrapes == [sent] * len(scrapes)
