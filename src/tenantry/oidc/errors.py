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
_TOKEN_IN_BODY = "tenantry.oidc.token_in_body"


class InsufficientScope(PermissionDenied):
    """The bearer token lacks a scope the endpoint needs (RFC 6750 section 3.1): 403."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"the access token lacks the {scope!r} scope")
        self.scope = scope


class InvalidBearerRequest(OAuthError):
    """A request to a bearer-token endpoint that cannot be read (RFC 6750 section 3.1): 400 ``invalid_request``
    with the Bearer challenge."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_request", detail)


def token_in_body(request: Request) -> None:
    """Remember that the request carries its access token in the form body (RFC 6750 section 2.2), so a
    refusal names its error as it does for a token in the header."""
    request.scope[_TOKEN_IN_BODY] = True


def _token_presented(request: Request) -> bool:
    in_header = request.headers.get("authorization", "").lower().startswith("bearer ")
    return in_header or bool(request.scope.get(_TOKEN_IN_BODY))


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


def _oauth_error(request: Request, error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401 and request.headers.get("authorization", "").lower().startswith("basic "):
        headers["WWW-Authenticate"] = f"Basic {_REALM}"
    body = {"error": error.error, "error_description": error.detail, **error.extra}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _bearer_error(request: Request, status: int, error: str, detail: str, extra: str = "") -> Response:
    """RFC 6750 section 3: no token presented → the bare challenge; a refused one (in the header or the body)
    or a request that cannot be read → its error code."""
    described = status != 401 or _token_presented(request)
    challenge = f"Bearer {_REALM}"
    if described:
        challenge += f', error="{error}", error_description="{_quoted(detail)}"{extra}'
    body = {"error": error, "error_description": detail} if described else {}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, "WWW-Authenticate": challenge})


class OidcRoute(UnitOfWorkRoute):
    """A unit-of-work route whose OAuth and bearer-token errors answer as the specifications say."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except InvalidBearerRequest as error:
                return _bearer_error(request, 400, error.error, error.detail)
            except OAuthError as error:
                return _oauth_error(request, error)
            except InsufficientScope as error:
                return _bearer_error(request, 403, "insufficient_scope", error.detail, f', scope="{error.scope}"')
            except Unauthenticated as error:
                return _bearer_error(request, 401, "invalid_token", error.detail)

        return answer
