"""The telm dialect: telm.ai's tenant user administration (users named by email), its token endpoint and
its API keys, under ``/api/auth/auth``.

Served below the vendor's server root (``https://env1.telm.ai`` becomes ``<tenantry>/compat/telm``).
See docs/dialects/telm.md.
"""

from fastapi import FastAPI

from tenantry.auth.principal import CredentialSource
from tenantry.dialects.base import Operation, dialect_app
from tenantry.dialects.telm import api_keys, errors, token, users
from tenantry.runtime import Runtime

# The vendor documents ``Authentication: Bearer``; ``Authorization`` is the standard; keys in ``X-TLM-Key``.
CREDENTIAL_SOURCES = (
    CredentialSource("authentication", "bearer"),
    CredentialSource("authorization", "bearer"),
    CredentialSource("x-tlm-key"),
)
_SECURITY: list[dict[str, list[str]]] = [{"authentication": []}, {"authorization": []}, {"tlmKey": []}]
_SECURITY_SCHEMES = {
    "authentication": {"type": "apiKey", "in": "header", "name": "Authentication", "description": "Bearer <token>"},
    "authorization": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "tlmKey": {"type": "apiKey", "in": "header", "name": "X-TLM-Key"},
}
_DESCRIPTION = """telm.ai's user management API on Tenantry.

Get tokens from `POST /api/auth/auth/token`, then send `Authentication: Bearer <access_token>` (or
`Authorization: Bearer …`), or an API key as `X-TLM-Key: <key>`. Errors: `{"message": "..."}`.
"""


def create_app(runtime: Runtime) -> FastAPI:
    return dialect_app(
        runtime,
        title="Tenantry: telm dialect",
        description=_DESCRIPTION,
        routers=[token.router, users.router, api_keys.router],
        install_errors=errors.install,
        credential_sources=CREDENTIAL_SOURCES,
        security_schemes=_SECURITY_SCHEMES,
        adjust=_vendor_operation,
    )


def _vendor_operation(path: str, operation: Operation) -> None:
    """The vendor's credentials; the token endpoint needs none."""
    operation["security"] = [] if path.endswith("/token") else _SECURITY
