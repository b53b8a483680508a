"""The akinon dialect: AppMaker's organization users (custom roles with privileges, mongoose-paginate pages).

Served below the vendor's server root (``https://abp-api.akinon.net/api/v1`` becomes
``<tenantry>/compat/akinon``). See docs/dialects/akinon.md.
"""

from fastapi import FastAPI

from tenantry.auth.principal import CredentialSource
from tenantry.dialects.akinon import errors
from tenantry.dialects.akinon.router import router
from tenantry.dialects.akinon.schemas import MONGO_ID_PATTERN
from tenantry.dialects.base import Operation, dialect_app
from tenantry.runtime import Runtime

CREDENTIAL_SOURCES = (CredentialSource("authorization", "bearer"), CredentialSource("x-access-token"))
_DESCRIPTION = """Akinon AppMaker's organization users API on Tenantry.

Authenticate with `Authorization: Bearer <access token>` or an API key in `x-access-token`.
Errors: `{apiError: [message]}` (401, 403, 404) and `{validationError: {field: message}}` (400).
"""
_SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "accessToken": {"type": "apiKey", "in": "header", "name": "x-access-token"},
}


def create_app(runtime: Runtime) -> FastAPI:
    return dialect_app(
        runtime,
        title="Tenantry: akinon dialect",
        description=_DESCRIPTION,
        routers=[router],
        install_errors=errors.install,
        credential_sources=CREDENTIAL_SOURCES,
        security_schemes=_SECURITY_SCHEMES,
        adjust=_vendor_operation,
    )


def _vendor_operation(_path: str, operation: Operation) -> None:
    """The vendor's security schemes and id pattern; no 422 answers."""
    operation["responses"].pop("422", None)
    operation["security"] = [{"bearerAuth": []}, {"accessToken": []}]
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            parameter["schema"] = {"type": "string", "pattern": MONGO_ID_PATTERN}
            parameter["description"] = "Organization ID" if parameter["name"] == "organizationId" else "User ID"
