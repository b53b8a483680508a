"""The akinon dialect: AppMaker's organization users (custom roles with privileges, mongoose-paginate pages).

Served below the vendor's server root (``https://abp-api.akinon.net/api/v1`` becomes
``<tenantry>/compat/akinon``). See docs/dialects/akinon.md.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tenantry import __version__
from tenantry.auth.principal import CredentialSource
from tenantry.dialects.akinon import errors
from tenantry.dialects.akinon.router import router
from tenantry.dialects.akinon.schemas import MONGO_ID_PATTERN
from tenantry.runtime import Runtime

CREDENTIAL_SOURCES = (CredentialSource("authorization", "bearer"), CredentialSource("x-access-token"))
_DESCRIPTION = """Akinon AppMaker's organization users API on Tenantry.

Authenticate with `Authorization: Bearer <access token>` or an API key in `x-access-token`.
Errors: `{apiError: [message]}` (401, 403, 404) and `{validationError: {field: message}}` (400).
"""


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Tenantry: akinon dialect", version=__version__, description=_DESCRIPTION, redoc_url=None)
    app.state.runtime = runtime
    app.state.credential_sources = CREDENTIAL_SOURCES
    errors.install(app)
    app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the vendor's security schemes, its id pattern and no 422 answers."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for operations in schema["paths"].values():
        for operation in operations.values():
            operation["summary"] = operation["description"].strip().splitlines()[0]
            operation["responses"].pop("422", None)
            operation["security"] = [{"bearerAuth": []}, {"accessToken": []}]
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    parameter["schema"] = {"type": "string", "pattern": MONGO_ID_PATTERN}
                    parameter["description"] = "Organization ID" if parameter["name"] == "organizationId" else "User ID"
    components = schema.setdefault("components", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    components["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "accessToken": {"type": "apiKey", "in": "header", "name": "x-access-token"},
    }
    app.openapi_schema = schema
    return schema
