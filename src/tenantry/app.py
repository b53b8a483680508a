"""The application: native API, probes, error handling and the OpenAPI document."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tenantry import __version__, dialects, logs, metrics, scim, tracing
from tenantry.api import errors, health
from tenantry.api.router import API_ROUTERS
from tenantry.auth.keys import KeyRing
from tenantry.auth.throttle import Throttle
from tenantry.console.mount import install as mount_console
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.flows.context import Flows
from tenantry.db.engine import Database
from tenantry.middleware import RequestContextMiddleware
from tenantry.oidc.mount import install as mount_oidc
from tenantry.runtime import Runtime
from tenantry.settings import Settings, get_settings
from tenantry.templating import Templates
from tenantry.ui.mount import install as mount_ui
from tenantry.web import metrics as web_metrics
from tenantry.web.body_limit import BodyLimitMiddleware
from tenantry.web.deferred import DeferredMount
from tenantry.web.docs import offline_docs, other_documents
from tenantry.web.methods import AllowedMethodsMiddleware
from tenantry.web.openapi import Operation, finished_openapi
from tenantry.web.routing import include_routes
from tenantry.worker import OutboxWorker

API_PREFIX = "/api/v1"
_PUBLIC_PATHS = {"/healthz", "/readyz", "/.well-known/jwks.json", f"{API_PREFIX}/auth/token"}
_PUBLIC_PATHS |= {f"{API_PREFIX}/auth/password-reset", f"{API_PREFIX}/auth/password-change"}
_DESCRIPTION = """Users and organizations for many tenants.

Authenticate with `Authorization: Bearer <access token>` (from `POST /api/v1/auth/token`) or with an
organization API key (`Authorization: Bearer tnt_…` or `x-api-key: tnt_…`). `{org}` is an organization's
id or slug. Errors are RFC 9457 problem details (`application/problem+json`).
"""


def build_runtime(settings: Settings, database: Database | None = None) -> Runtime:
    database = database or Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
        replica_urls=settings.replica_urls,
        primary_pin_seconds=settings.database_primary_pin_seconds,
        replica_max_lag_seconds=settings.database_replica_max_lag_seconds,
    )
    passwords, templates, throttle = Passwords(settings), Templates(settings), Throttle(settings)
    return Runtime(
        settings=settings,
        database=database,
        passwords=passwords,
        keyring=KeyRing(database),
        templates=templates,
        flows=Flows(settings, templates, passwords, throttle),
        throttle=throttle,
    )


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    owns_database = runtime is None
    runtime = runtime or build_runtime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.keyring.load()
        worker = OutboxWorker(runtime) if runtime.settings.outbox_in_process else None
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            await worker.stop()
        if owns_database:
            await runtime.database.dispose()
        metrics.process_exiting()

    mounted = {"SCIM 2.0": scim.PREFIX} | {
        f"{name} dialect": prefix for name, prefix in dialects.enabled(runtime.settings.dialects).items()
    }
    description = _DESCRIPTION + other_documents(mounted)
    app = FastAPI(
        title="Tenantry", version=__version__, description=description, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    offline_docs(app)
    app.state.runtime = runtime
    errors.install(app)
    include_routes(app.router, health.router)
    for router in API_ROUTERS:
        include_routes(app.router, router, prefix=API_PREFIX)
    mount_ui(app)
    mount_console(app)
    mount_oidc(app)
    dialects.mount(app, runtime)
    app.router.routes.append(DeferredMount(scim.PREFIX, partial(scim.create_app, runtime), name="scim"))
    app.add_middleware(AllowedMethodsMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.max_body_bytes)
    web_metrics.install(app, runtime)
    tracing.install(app, runtime.database.engine)
    app.add_middleware(RequestContextMiddleware)
    app.openapi = lambda: finished_openapi(app, _SECURITY_SCHEMES, _problems_and_security)  # type: ignore[method-assign]
    return app


def create_worker_app(runtime: Runtime) -> FastAPI:
    """What `tenantry worker` serves when ``TENANTRY_WORKER_METRICS_PORT`` is set: the outbox worker runs in its
    lifespan, and ``GET /metrics`` (guarded like the API's) reports what this process counts, its webhook
    deliveries above all: a worker apart from the API counts them where the API's /metrics cannot see.
    ``GET /healthz`` (public, for the container's healthcheck) answers 503 once the worker is stopped or stuck."""
    worker = OutboxWorker(runtime)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()
        yield
        await worker.stop()
        await runtime.database.dispose()
        metrics.process_exiting()

    app = FastAPI(
        title="Tenantry worker", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.runtime = runtime
    web_metrics.install(app, runtime, count_requests=False)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """The outbox worker runs and moves (a poll or a message within a lease)."""
        if not worker.alive:
            return JSONResponse({"status": "stuck"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


def serve_app() -> FastAPI:
    """The factory `tenantry serve` hands to uvicorn (once per worker process)."""
    settings = get_settings()
    logs.configure(settings)
    app = create_app(settings)
    settle_heap()
    return app


def settle_heap() -> None:
    """Move what the process has built so far (imported code, the app, its routes and schemas: about 340,000
    objects) out of the garbage collector's reach, where it stays for the process's life anyway.

    Under load, objects still held by requests in flight are promoted to the oldest generation, and once those
    promotions reach a quarter of it the collector walked all of it: from the process's start through 21 s of
    get-user with 32 clients, 31 full collections took 5.4 s, the longest 220 ms (``gc.callbacks``,
    bench/README.md). Frozen, a full collection walks only what requests left behind (about 10 ms).
    """
    gc.collect()
    gc.freeze()


_SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Access token or API key"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}


def _problems_and_security(path: str, operation: Operation) -> None:
    """Error answers are problem+json; every path but the public ones takes a bearer token or an API key."""
    for code, response in operation.get("responses", {}).items():
        if code[0] in "45":
            response["content"] = {errors.PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if path not in _PUBLIC_PATHS:
        operation["security"] = [{"bearer": []}, {"apiKey": []}]
