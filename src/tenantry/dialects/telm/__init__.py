"""The telm dialect: telm.ai's tenant user administration (users named by email), its token endpoint and
its API keys, under ``/api/auth/auth``.

Served below the vendor's server root (``https://env1.telm.ai`` becomes ``<tenantry>/compat/telm``).
See docs/dialects/telm.md.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tenantry import __version__
from tenantry.auth.principal import CredentialSource
from tenantry.dialects.telm import api_keys, errors, token, users
from tenantry.runtime import Runtime

# The vendor documents ``Authentication: Bearer``; ``Authorization`` is the standard; keys in ``X-TLM-Key``.
CREDENTIAL_SOURCES = (
    CredentialSource("authentication", "bearer"),
    CredentialSource("authorization", "bearer"),
    CredentialSource("x-tlm-key"),
)
_SECURITY: list[dict[str, list[str]]] = [{"authentication": []}, {"authorization": []}, {"tlmKey": []}]
_DESCRIPTION = """telm.ai's user management API on Tenantry.

Get tokens from `POST /api/auth/auth/token`, then send `Authentication: Bearer <access_token>` (or
`Authorization: Bearer …`), or an API key as `X-TLM-Key: <key>`. Errors: `{"message": "..."}`.
"""


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Tenantry: telm dialect", version=__version__, description=_DESCRIPTION, redoc_url=None)
    app.state.runtime = runtime
    app.state.credential_sources = CREDENTIAL_SOURCES
    errors.install(app)
    for module in (token, users, api_keys):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the vendor's credentials, summaries from docstrings."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            operation["summary"] = operation["description"].strip().splitlines()[0]
            operation["security"] = [] if path.endswith("/token") else _SECURITY
    components = schema.setdefault("components", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    components["securitySchemes"] = {
        "authentication": {"type": "apiKey", "in": "header", "name": "Authentication", "description": "Bearer <token>"},
        "authorization": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "tlmKey": {"type": "apiKey", "in": "header", "name": "X-TLM-Key"},
    }
    app.openapi_schema = schema
    return schema
