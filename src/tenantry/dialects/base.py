"""What every dialect's sub-application is made of: a FastAPI app holding the runtime, the vendor's error
bodies and credential headers, its routers, and an OpenAPI document in the vendor's terms."""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI

from tenantry import __version__
from tenantry.auth.principal import CredentialSource
from tenantry.runtime import Runtime
from tenantry.web.docs import offline_docs
from tenantry.web.openapi import Operation, OperationHook, finished_openapi
from tenantry.web.routing import include_routes

__all__ = ["Operation", "OperationHook", "dialect_app"]


def dialect_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    install_errors: Callable[[FastAPI], None],
    credential_sources: tuple[CredentialSource, ...] | None = None,
    security_schemes: dict[str, Any] | None = None,
    adjust: OperationHook | None = None,
) -> FastAPI:
    """The sub-application; with ``security_schemes`` its document names them, each operation is summarized by
    its docstring's first line and passed to ``adjust``, and FastAPI's validation-error schemas are left out."""
    app = FastAPI(title=title, version=__version__, description=description, docs_url=None, redoc_url=None)
    offline_docs(app)
    app.state.runtime = runtime
    if credential_sources is not None:
        app.state.credential_sources = credential_sources
    install_errors(app)
    for router in routers:
        include_routes(app.router, router)
    if security_schemes is not None:
        schemes = security_schemes
        app.openapi = lambda: finished_openapi(app, schemes, adjust)  # type: ignore[method-assign]
    return app
