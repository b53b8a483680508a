"""The saleschat dialect: the vendor's user-controller (create, reset password, magic link, search by
email, delete, disable, enable) with its "roles allowed / impersonated / partner" policies.

Served below the vendor's server root (``https://apis.saleschat.pro`` becomes
``<tenantry>/compat/saleschat``). See docs/dialects/saleschat.md.
"""

from fastapi import FastAPI

from tenantry.auth.principal import CredentialSource
from tenantry.dialects.base import Operation, dialect_app
from tenantry.dialects.saleschat import errors
from tenantry.dialects.saleschat.router import router
from tenantry.runtime import Runtime

CREDENTIAL_SOURCES = (CredentialSource("authorization", "bearer"),)
_DESCRIPTION = """saleschat's user-controller on Tenantry.

Authenticate with `Authorization: Bearer <token>`: a Tenantry access token or organization API key.
Every error is an `ErrorRespDto` whose `error_code` is the HTTP status * 10000 + a sequence.
"""


def create_app(runtime: Runtime) -> FastAPI:
    return dialect_app(
        runtime,
        title="Tenantry: saleschat dialect",
        description=_DESCRIPTION,
        routers=[router],
        install_errors=errors.install,
        credential_sources=CREDENTIAL_SOURCES,
        security_schemes={"bearer-key": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        adjust=_vendor_operation,
    )


def _vendor_operation(_path: str, operation: Operation) -> None:
    """The vendor's security scheme, and no FastAPI 422 body."""
    operation["security"] = [{"bearer-key": []}]
    if "HTTPValidationError" in str(operation["responses"].get("422")):
        del operation["responses"]["422"]  # only the path can be invalid there: answered 403 or 404
