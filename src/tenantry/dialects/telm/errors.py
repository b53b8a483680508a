"""telm's error body, ``{"message": "..."}``, with the status that says what went wrong.

The vendor documents no error bodies; this one is *inferred* from its success answers. The one place
where core errors become telm answers: 401 no valid credentials or sign-in refused, 403 not allowed,
404 unknown tenant or user, 409 a duplicate, 422 invalid input, 429 too many sign-ins.
"""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from tenantry.errors import (
    OAuthError,
    OrganizationNotFound,
    RateLimited,
    TenantryError,
)
from tenantry.web.errors import ErrorAnswers, field_name, json_invalid, message_of, status_for, unparsable_body
from tenantry.web.headers import NO_STORE

# The token endpoint's OAuth errors: a refused sign-in is 401, a malformed request 422.
_OAUTH_STATUS = {"invalid_grant": 401, "password_change_required": 403}
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="telm"'}


class Message(BaseModel):
    message: str


def message(status: int, text: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": text, **extra}, status_code=status, headers=headers)


def _domain_error(_: Request, error: TenantryError) -> JSONResponse:
    if isinstance(error, OAuthError):
        status = _OAUTH_STATUS.get(error.error, 422)
        return message(status, error.detail, {**NO_STORE, **(_CHALLENGE if status == 401 else {})}, **error.extra)
    if isinstance(error, OrganizationNotFound):
        return message(404, "tenant not found")
    status = status_for(error, 422)
    if isinstance(error, RateLimited):
        return message(status, error.detail, {"Retry-After": str(error.retry_after)})
    return message(status, error.detail, _CHALLENGE if status == 401 else None)


def _request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
    items = error.errors()
    if json_invalid(items):
        return message(422, "the request body is not valid JSON")
    return message(422, "; ".join(f"{field_name(item['loc'], dotted=True)}: {message_of(item)}" for item in items))


def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    if unparsable_body(error):
        return message(422, "the request body could not be parsed")
    return message(error.status_code, str(error.detail), error.headers)


ANSWERS = ErrorAnswers(
    log=logging.getLogger("tenantry.dialects.telm"),
    answer=lambda _, status, text: message(status, text),
    domain=_domain_error,
    invalid_request=_request_invalid,
    http=_http_error,
    descriptions={
        401: "Unauthorized: no valid credentials (or, at the token endpoint, the sign-in was refused)",
        403: "Forbidden: not allowed for this caller",
        404: "Not Found: no such tenant, user or API key",
        409: "Conflict: a duplicate, or a change the rules forbid (the last owner)",
        422: "Unprocessable: a parameter is missing or invalid",
        429: "Too many requests; `Retry-After` says in how many seconds to try again",
    },
    model=lambda _: Message,
)
install = ANSWERS.install
documented = ANSWERS.documented
