"""The saleschat dialect: the vendor's user-controller (create, reset password, magic link, search by
email, delete, disable, enable) with its "roles allowed / impersonated / partner" policies.

Served below the vendor's server root (``https://apis.saleschat.pro`` becomes
``<tenantry>/compat/saleschat``). See docs/dialects/saleschat.md.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tenantry import __version__
from tenantry.auth.principal import CredentialSource
from tenantry.dialects.saleschat import errors
from tenantry.dialects.saleschat.router import router
from tenantry.runtime import Runtime

CREDENTIAL_SOURCES = (CredentialSource("authorization", "bearer"),)
_DESCRIPTION = """saleschat's user-controller on Tenantry.

Authenticate with `Authorization: Bearer <token>`: a Tenantry access token or organization API key.
Every error is an `ErrorRespDto` whose `error_code` is the HTTP status * 10000 + a sequence.
"""


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Tenantry: saleschat dialect", version=__version__, description=_DESCRIPTION, redoc_url=None)
    app.state.runtime = runtime
    app.state.credential_sources = CREDENTIAL_SOURCES
    errors.install(app)
    app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the vendor's summaries and security scheme, and no FastAPI 422 body."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for operations in schema["paths"].values():
        for operation in operations.values():
            operation["summary"] = operation["description"].strip().splitlines()[0]
            operation["security"] = [{"bearer-key": []}]
            if "HTTPValidationError" in str(operation["responses"].get("422")):
                del operation["responses"]["422"]  # only the path can be invalid there: answered 403 or 404
    components = schema.setdefault("components", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    components["securitySchemes"] = {"bearer-key": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    app.openapi_schema = schema
    return schema
