"""telm's error body, ``{"message": "..."}``, with the status that says what went wrong.

The vendor documents no error bodies; this one is *inferred* from its success answers. The one place
where core errors become telm answers: 401 no valid credentials or sign-in refused, 403 not allowed,
404 unknown tenant or user, 409 a duplicate, 422 invalid input, 429 too many sign-ins.
"""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from tenantry.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    OAuthError,
    OrganizationNotFound,
    PermissionDenied,
    RateLimited,
    TenantryError,
    Unauthenticated,
)

log = logging.getLogger("tenantry.dialects.telm")

_STATUS: list[tuple[type[TenantryError], int]] = [
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (RateLimited, 429),
]
# The token endpoint's OAuth errors: a refused sign-in is 401, a malformed request 422.
_OAUTH_STATUS = {"invalid_grant": 401, "password_change_required": 403}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="telm"'}


class Message(BaseModel):
    message: str


def message(status: int, text: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": text, **extra}, status_code=status, headers=headers)


def _domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TenantryError)
    if isinstance(error, OAuthError):
        status = _OAUTH_STATUS.get(error.error, 422)
        return message(status, error.detail, {**_NO_STORE, **(_CHALLENGE if status == 401 else {})}, **error.extra)
    if isinstance(error, OrganizationNotFound):
        return message(404, "tenant not found")
    status = next((code for kind, code in _STATUS if isinstance(error, kind)), 422)
    if isinstance(error, RateLimited):
        return message(status, error.detail, {"Retry-After": str(error.retry_after)})
    return message(status, error.detail, _CHALLENGE if status == 401 else None)


def _field(location: tuple[int | str, ...]) -> str:
    parts = location[1:] if location and location[0] in ("body", "query", "path", "header") else location
    return ".".join(str(part) for part in parts) or "body"


def _request_invalid(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    items = error.errors()
    if any(item.get("type") == "json_invalid" for item in items):
        return message(422, "the request body is not valid JSON")
    reasons = [f"{_field(tuple(item['loc']))}: {str(item['msg']).removeprefix('Value error, ')}" for item in items]
    return message(422, "; ".join(reasons))


def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 400 and error.__cause__ is not None:
        return message(422, "the request body could not be parsed")
    return message(error.status_code, str(error.detail), error.headers)


def _integrity_error(_: Request, error: Exception) -> JSONResponse:
    log.info("integrity error mapped to 409: %s", type(error.__cause__ or error).__name__)
    return message(409, "the change conflicts with existing data")


def _unexpected(_: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return message(500, "an internal error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(TenantryError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)


_DESCRIPTIONS = {
    401: "Unauthorized: no valid credentials (or, at the token endpoint, the sign-in was refused)",
    403: "Forbidden: not allowed for this caller",
    404: "Not Found: no such tenant, user or API key",
    409: "Conflict: a duplicate, or a change the rules forbid (the last owner)",
    422: "Unprocessable: a parameter is missing or invalid",
    429: "Too many requests; `Retry-After` says in how many seconds to try again",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route may give."""
    return {status: {"model": Message, "description": _DESCRIPTIONS[status]} for status in statuses}
