"""Optional OpenTelemetry traces: HTTP requests (FastAPI), SQL statements (SQLAlchemy) and outbox deliveries.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (``http://collector:4318``; the OTLP/HTTP exporter reads it
and the other standard ``OTEL_*`` variables; ``OTEL_SERVICE_NAME`` defaults to ``tenantry``) and the ``otel``
extra is installed
(``pip install 'tenantry[otel]'``). Every request span carries the request id (``tenantry.request_id``, the
``x-request-id`` the answer echoes and the access log prints), so a log line leads to its trace. Like the
access log, no span carries a request's query string: a reset, activation or magic link's one-time token
travels there, and whoever reads the traces could spend it first. Off, nothing here costs more than a
dictionary lookup per outbox message.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from tenantry.requestctx import request_id

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

REQUEST_ID = "tenantry.request_id"
log = logging.getLogger("tenantry.tracing")
_state: dict[str, Any] = {}
# What the HTTP instrumentation fills from the request's URL, under the old semantic conventions and the new
# (``OTEL_SEMCONV_STABILITY_OPT_IN``): the URLs and targets may end with the query, ``url.query`` is the query.
_URLS = ("http.url", "http.target", "url.full")
_QUERY = "url.query"


def exporter() -> "SpanExporter":
    """Where spans go: OTLP over HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/traces``)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure(engine: AsyncEngine) -> "TracerProvider | None":
    """Trace ``engine``'s statements and outbox deliveries when an OTLP endpoint is configured; the provider,
    or None when tracing is off."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: pip install 'tenantry[otel]'"
        )
        return None
    service = os.environ.get("OTEL_SERVICE_NAME", "tenantry")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter()))
    _state["provider"] = provider
    _state["tracer"] = provider.get_tracer("tenantry.outbox")
    _state["trace"] = trace
    # The instrumentation declares SQLAlchemy < 2.1; it hooks the engine events 2.1 keeps (tests/web/test_tracing.py).
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True)
    return provider


def install(app: FastAPI, engine: AsyncEngine) -> "TracerProvider | None":
    """``configure``, and trace ``app``'s requests. Call it before the request-context middleware is added,
    so that the request id is known when the request's span is named."""
    provider = configure(engine)
    if provider is None:
        return None
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    app.add_middleware(_RequestIdOnSpan)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, exclude_spans=["receive", "send"], server_request_hook=_without_query
    )
    return provider


def _without_query(span: "Span", scope: dict[str, Any]) -> None:
    """The request span's server hook, called once the instrumentation has set the request's attributes:
    writes them again without the query string (URLs cut at ``?``, ``url.query`` emptied), whichever semantic
    conventions are followed. The span is exported when it ends, so the collector never sees the query."""
    if not scope.get("query_string") or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URLS:
        if isinstance(value := attributes.get(key), str):
            span.set_attribute(key, value.split("?", 1)[0])
    if _QUERY in attributes:
        span.set_attribute(_QUERY, "")


def uninstall() -> None:
    """Stop tracing statements and outbox deliveries (tests; a process traces for its whole life)."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
    _state.clear()


class _RequestIdOnSpan:
    """Inside the request-context middleware: names the request id on the request's span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        current = request_id.get()
        if scope["type"] == "http" and current is not None and (trace := _state.get("trace")) is not None:
            trace.get_current_span().set_attribute(REQUEST_ID, current)
        await self.app(scope, receive, send)


@contextmanager
def outbox_span(kind: str, message_id: str) -> Iterator[None]:
    """A span around one outbox message's delivery (none when tracing is off)."""
    tracer = _state.get("tracer")
    if tracer is None:
        yield
        return
    with tracer.start_as_current_span("outbox " + kind, attributes={"tenantry.outbox.message_id": message_id}):
        yield
