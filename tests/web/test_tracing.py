"""Optional OpenTelemetry traces: a request's span is named by its route template and carries the request id
the answer echoes (never the query string), its SQL statements are child spans of it, and an outbox delivery
has a span of its own."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.instrumentation._semconv import (
    _OpenTelemetrySemanticConventionStability,
    _OpenTelemetryStabilitySignalType,
    _StabilityMode,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tenantry import tracing
from tenantry.app import create_app
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.factories import bearer, make_platform_admin, token_for
from tests.mailbox import CollectingSink

LINK_TOKEN = "one-time-link-token-5c1e9a"


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    runtime: Runtime, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, TracerProvider]]:
    """An app traced as ``OTEL_EXPORTER_OTLP_ENDPOINT`` turns on, its spans kept in memory instead of sent."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setattr(tracing, "exporter", lambda: exporter)
    app = create_app(runtime=runtime)
    provider = tracing._state["provider"]
    exporter.clear()
    yield app, provider
    tracing.uninstall()


async def test_requests_sql_and_outbox_deliveries_are_traced_with_the_request_id(
    traced: tuple[FastAPI, TracerProvider], runtime: Runtime, exporter: InMemorySpanExporter
) -> None:
    app, provider = traced
    await make_platform_admin(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        admin = bearer(await token_for(client, "root@example.com"))
        answer = await client.post("/api/v1/orgs", json={"name": "Traced", "slug": "traced"}, headers=admin)
        assert answer.status_code == 201, answer.text
        invited = await client.post("/api/v1/orgs/traced/users", json={"email": "t@example.com"}, headers=admin)
        assert invited.status_code == 201, invited.text
    assert await OutboxWorker(runtime, email_sink=CollectingSink()).run_once() >= 1
    provider.force_flush()
    spans = exporter.get_finished_spans()
    server = next(span for span in spans if span.kind == SpanKind.SERVER and span.name == "POST /api/v1/orgs")
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/orgs"
    assert server.attributes[tracing.REQUEST_ID] == answer.headers["x-request-id"]
    statements = [span for span in spans if span.kind == SpanKind.CLIENT and span.attributes]
    assert any(span.context.trace_id == server.context.trace_id for span in statements)
    assert any("INSERT INTO organizations" in str(span.attributes.get("db.statement")) for span in statements)
    assert "outbox email" in {span.name for span in spans}


@pytest.fixture(params=["default", "http/dup"])
def conventions(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The HTTP semantic conventions the instrumentation follows: the old ones (``http.url``, ``http.target``)
    or the old and the new together (``url.query``, ``url.path``), as ``OTEL_SEMCONV_STABILITY_OPT_IN``
    chooses; the instrumentation reads that variable once per process, so the test sets what it decided."""
    stability = _OpenTelemetrySemanticConventionStability
    stability._initialize()
    mode = _StabilityMode.HTTP_DUP if request.param == "http/dup" else _StabilityMode.DEFAULT
    monkeypatch.setitem(stability._OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING, _OpenTelemetryStabilitySignalType.HTTP, mode)
    return str(request.param)


async def test_no_span_carries_a_requests_query_string(
    traced: tuple[FastAPI, TracerProvider], exporter: InMemorySpanExporter, conventions: str
) -> None:
    """A reset, activation or magic link's one-time token travels in its query: the access log leaves the query
    out, and so must the trace the collector receives."""
    app, provider = traced
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        opened = await client.get(f"/ui/reset-password?token={LINK_TOKEN}&lang=en")
    assert opened.status_code < 500
    provider.force_flush()
    server = next(span for span in exporter.get_finished_spans() if span.kind == SpanKind.SERVER)
    attributes = dict(server.attributes or {})
    assert attributes["http.url" if conventions == "default" else "url.path"].endswith("/ui/reset-password")
    carrying = {
        key: value
        for span in exporter.get_finished_spans()
        for key, value in (span.attributes or {}).items()
        if LINK_TOKEN in str(value) or "lang=en" in str(value)
    }
    assert carrying == {}
