"""What every dialect's sub-application is made of: a FastAPI app holding the runtime, the vendor's error
bodies and credential headers, its routers, and an OpenAPI document in the vendor's terms."""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from tenantry import __version__
from tenantry.auth.principal import CredentialSource
from tenantry.runtime import Runtime
from tenantry.web.docs import offline_docs

Operation = dict[str, Any]
OperationHook = Callable[[str, Operation], None]
"""Called with each operation's path and its OpenAPI object, to put the vendor's security and details there."""


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
        app.include_router(router)
    if security_schemes is not None:
        schemes = security_schemes
        app.openapi = lambda: _vendor_openapi(app, schemes, adjust)  # type: ignore[method-assign]
    return app


def _vendor_openapi(app: FastAPI, security_schemes: dict[str, Any], adjust: OperationHook | None) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            operation["summary"] = operation["description"].strip().splitlines()[0]
            if adjust is not None:
                adjust(path, operation)
    components = schema.setdefault("components", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    components["securitySchemes"] = security_schemes
    app.openapi_schema = schema
    return schema
