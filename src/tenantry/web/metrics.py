"""``GET /metrics`` and the middleware that counts every HTTP request by its route template.

``/metrics`` is public unless ``TENANTRY_METRICS_TOKEN`` is set (then it needs that bearer token): a
Prometheus server usually scrapes from inside the network, and what it reads holds no tenant's data,
only counts by route template, status and result. Set the token when the port is reachable from outside.
"""

import asyncio
import hmac
import math
import time
from collections.abc import Iterator, Sequence
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from tenantry import metrics
from tenantry.core.outbox import service as outbox
from tenantry.db.base import utcnow
from tenantry.db.engine import Database
from tenantry.runtime import Runtime, runtime_of
from tenantry.web.asgi import Answer, HttpMiddleware
from tenantry.web.deferred import DeferredMount
from tenantry.web.routing import include_routes

router = APIRouter(tags=["health"])


def _templates(routes: Sequence[BaseRoute], prefix: str) -> Iterator[tuple[int, str]]:
    """(id of the route a request's scope names, its full path template), into mounted applications too, those
    built so far: walking a deferred one would build it (tenantry.web.deferred)."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, DeferredMount) and not route.built:
            continue
        if isinstance(route, Mount):
            yield from _templates(route.routes, prefix + route.path)
        elif context.path is not None:
            yield id(route), prefix + context.path


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
"""Methods counted under their own name; any other a client sends is counted as ``_OTHER`` (as OpenTelemetry
does): a label per invented method would grow the metrics without bound."""

_Series = tuple[Counter, Histogram]
"""A request counter's and a duration histogram's series for one set of labels."""


class HttpMetricsMiddleware(HttpMiddleware):
    """Counts requests and their latency by method, route template (``/api/v1/orgs/{org}/users/{user}``,
    never the ids) and status; requests no route matched share one label, ``unmatched``."""

    def __init__(self, app: ASGIApp, root: FastAPI) -> None:
        super().__init__(app)
        self._root = root
        self._by_route: dict[int, str] | None = None
        self._walked_after_builds = 0
        self._series: dict[tuple[str, str, str], _Series] = {}

    def _template(self, scope: Scope) -> str:
        # The routes are complete once the application serves, but for deferred mounts built since the last walk.
        if self._by_route is None or self._walked_after_builds != DeferredMount.builds:
            self._walked_after_builds = DeferredMount.builds
            self._by_route = dict(_templates(self._root.routes, ""))
        route = scope.get("route")
        return self._by_route.get(id(route), metrics.UNMATCHED_ROUTE) if route is not None else metrics.UNMATCHED_ROUTE

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = Answer()
        try:
            await self.app(scope, receive, answer.watching(send))
        finally:
            requests, duration = self._series_of(scope, answer.status)
            requests.inc()
            duration.observe(answer.seconds)

    def _series_of(self, scope: Scope, status: int) -> _Series:
        """The series a request is counted in, looked up once per set of labels: ``labels()`` took 7 µs of every
        request, its series' ``inc`` and ``observe`` 2.6."""
        method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
        key = (method, self._template(scope), str(status))
        series = self._series.get(key)
        if series is None:
            labels = {"method": key[0], "route": key[1], "status": key[2]}
            series = self._series[key] = (
                metrics.HTTP_REQUESTS.labels(**labels),
                metrics.HTTP_DURATION.labels(**labels),
            )
        return series


class OutboxBacklog:
    """The outbox backlog as ``/metrics`` reports it, counted at most once per ``seconds`` in this process: counting
    reads every waiting message (84 ms with 100,000 waiting), and the route is public by default, so scrapes in a
    burst share one count. The ages are worked out at each scrape from the oldest message's time."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._counted_at = -math.inf
        self._rows: list[tuple[str, int, datetime]] = []
        self._lock = asyncio.Lock()

    async def rows(self, database: Database) -> list[tuple[str, int, datetime]]:
        async with self._lock:  # scrapes at once wait for the one count
            if time.monotonic() - self._counted_at >= self._seconds:
                async with database.transaction(write=False) as session:
                    self._rows = await outbox.backlog(session)
                self._counted_at = time.monotonic()
            return self._rows

    async def gauges(self, database: Database) -> list[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "tenantry_outbox_depth", "Outbox messages waiting for delivery, by kind.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "tenantry_outbox_oldest_age_seconds",
            "Age of the oldest message waiting for delivery, by kind.",
            labels=["kind"],
        )
        now = utcnow()
        for kind, count, created_at in await self.rows(database):
            depth.add_metric([kind], count)
            oldest.add_metric([kind], max((now - created_at).total_seconds(), 0.0))
        return [depth, oldest]


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@router.get(
    "/metrics", response_class=Response, responses={401: {"description": "The metrics token is missing or wrong"}}
)
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics (public unless `TENANTRY_METRICS_TOKEN` is set: see docs/events.md)."""
    runtime = runtime_of(request)
    expected = runtime.settings.metrics_token
    if expected is not None and not hmac.compare_digest(
        _bearer(request).encode(), expected.get_secret_value().encode()
    ):
        return Response(status_code=401, headers={"www-authenticate": 'Bearer realm="metrics"'})
    backlog: OutboxBacklog = request.app.state.outbox_backlog
    body = metrics.exposition(await backlog.gauges(runtime.database))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, runtime: Runtime, *, count_requests: bool = True) -> None:
    """``GET /metrics`` on ``app``; with ``count_requests``, every request ``app`` answers is counted."""
    app.state.outbox_backlog = OutboxBacklog(runtime.settings.metrics_outbox_seconds)
    include_routes(app.router, router)
    if count_requests:
        app.add_middleware(HttpMetricsMiddleware, root=app)
    metrics.watch_pool(runtime.database.engine.sync_engine.pool)
