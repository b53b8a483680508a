"""Prometheus metrics: what each process counts, and the exposition ``GET /metrics`` answers.

Under ``tenantry serve --workers N`` each worker process counts its own requests; prometheus-client's
multiprocess mode adds them up. ``tenantry serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before the workers start (unless the operator set one), so whichever worker answers a scrape
reports the sum of all. Figures read from the database (the outbox) are the same for every worker and
are computed at scrape time. See docs/events.md for the list and what each label holds.
"""

import os
import platform
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.pool import Pool

from tenantry import __version__

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched (never its raw path: ids and junk would explode it)."""

HTTP_REQUESTS = Counter(
    "tenantry_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "tenantry_http_request_duration_seconds",
    "Time to answer HTTP requests, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGN_INS = Counter("tenantry_sign_ins", "Sign-ins, by method and result.", ["method", "result"])
WEBHOOK_DELIVERIES = Counter("tenantry_webhook_deliveries", "Webhook delivery attempts, by result.", ["result"])
EMAIL_DELIVERIES = Counter("tenantry_email_deliveries", "Email delivery attempts, by result.", ["result"])
DB_CONNECTIONS_IN_USE = Gauge(
    "tenantry_db_pool_connections_in_use",
    "Database connections checked out of the pools (all workers).",
    multiprocess_mode="livesum",
)


def watch_pool(pool: Pool) -> None:
    """Count the pool's connections in use (once per pool, however many apps share it)."""
    if event.contains(pool, "checkout", _checked_out):
        return
    event.listen(pool, "checkout", _checked_out)
    event.listen(pool, "checkin", _checked_in)


def _checked_out(*_: object) -> None:
    DB_CONNECTIONS_IN_USE.inc()


def _checked_in(*_: object) -> None:
    DB_CONNECTIONS_IN_USE.dec()


def build_info() -> GaugeMetricFamily:
    info = GaugeMetricFamily("tenantry_build_info", "The running version (always 1).", labels=["version", "python"])
    info.add_metric([__version__, platform.python_version()], 1)
    return info


class _Snapshot(Collector):
    def __init__(self, families: Iterable[GaugeMetricFamily]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._families


def exposition(snapshot: Iterable[GaugeMetricFamily]) -> bytes:
    """The text exposition: every process's counters (summed in multiprocess mode) and ``snapshot``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    read_now = CollectorRegistry(auto_describe=False)
    read_now.register(_Snapshot([build_info(), *snapshot]))
    return generate_latest(counted) + generate_latest(read_now)


def process_exiting() -> None:
    """Drop this process's live gauges from the multiprocess sums (a worker that shuts down cleanly)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
