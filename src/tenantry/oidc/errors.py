"""Error answers of the OpenID provider's back-channel endpoints, as the OAuth specifications word them.

Relying parties parse these with OAuth libraries, not with our problem documents: RFC 6749 section 5.2
answers ``application/json`` with ``error`` and ``error_description`` (a strict client such as
oidc-client-ts or Nimbus refuses ``application/problem+json``), a failed client authentication through the
``Authorization`` header answers 401 with a ``Basic`` challenge, and a refused bearer token answers per
RFC 6750 section 3 (``invalid_token``; ``insufficient_scope`` with 403).
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from tenantry.errors import OAuthError, PermissionDenied, Unauthenticated
from tenantry.web.headers import NO_STORE
from tenantry.web.routing import UnitOfWorkRoute

_REALM = 'realm="tenantry"'


class InsufficientScope(PermissionDenied):
    """The bearer token lacks a scope the endpoint needs (RFC 6750 section 3.1): 403."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"the access token lacks the {scope!r} scope")
        self.scope = scope


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


def _oauth_error(request: Request, error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401 and request.headers.get("authorization", "").lower().startswith("basic "):
        headers["WWW-Authenticate"] = f"Basic {_REALM}"
    body = {"error": error.error, "error_description": error.detail, **error.extra}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _bearer_error(request: Request, status: int, error: str, detail: str, extra: str = "") -> Response:
    """RFC 6750 section 3: no token presented → the bare challenge; a refused one → its error code."""
    presented = request.headers.get("authorization", "").lower().startswith("bearer ")
    challenge = f"Bearer {_REALM}"
    if presented or status == 403:
        challenge += f', error="{error}", error_description="{_quoted(detail)}"{extra}'
    body = {"error": error, "error_description": detail} if presented or status == 403 else {}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, "WWW-Authenticate": challenge})


class OidcRoute(UnitOfWorkRoute):
    """A unit-of-work route whose OAuth and bearer-token errors answer as the specifications say."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except OAuthError as error:
                return _oauth_error(request, error)
            except InsufficientScope as error:
                return _bearer_error(request, 403, "insufficient_scope", error.detail, f', scope="{error.scope}"')
            except Unauthenticated as error:
                return _bearer_error(request, 401, "invalid_token", error.detail)

        return answer
