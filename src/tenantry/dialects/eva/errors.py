"""eva's error bodies: ``StandardError`` and, for invalid input, ``ValidationError`` with ``details``.

``{timestamp (ms), errorCode, errorType: API_ERROR | API_INFO | USER_ERROR, message, path}``; the one
place where domain errors become eva answers.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from tenantry.core.imports.records import ImportLimitExceeded
from tenantry.errors import (
    FieldError,
    InvalidInput,
    MalformedBody,
    TenantryError,
)
from tenantry.web.errors import (
    STATUSES,
    ErrorAnswers,
    field_name,
    json_invalid,
    message_of,
    status_for,
    unparsable_body,
)

ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    500: "INTERNAL_ERROR",
}
# Too many requests: eva documents no 429, so a limit answers 400 like any other refusal.
_STATUS = [(kind, status) for kind, status in STATUSES if status != 429]


class FieldMessage(BaseModel):
    fieldName: str
    message: str
    errorCode: str


class StandardError(BaseModel):
    """Represents an error that occurred while processing a request."""

    timestamp: int
    errorCode: str
    errorType: Literal["API_ERROR", "API_INFO", "USER_ERROR"]
    message: str
    path: str


class ValidationError(StandardError):
    details: list[FieldMessage]


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    details: list[FieldMessage] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "timestamp": int(time.time() * 1000),
        "errorCode": ERROR_CODES.get(status, f"HTTP_{status}"),
        "errorType": "API_ERROR" if status >= 500 else "USER_ERROR",
        "message": message,
        "path": request.url.path,
    }
    if details is not None:
        body["details"] = [detail.model_dump() for detail in details]
    return JSONResponse(body, status_code=status, headers=headers)


def field_messages(errors: list[FieldError]) -> list[FieldMessage]:
    return [FieldMessage(fieldName=e.field, message=e.message, errorCode="INVALID_VALUE") for e in errors]


def _domain_error(request: Request, error: TenantryError) -> JSONResponse:
    status = status_for(error, 400, _STATUS)
    if isinstance(error, MalformedBody):
        return error_response(request, 400, error.detail, details=field_messages(error.errors))
    if isinstance(error, InvalidInput):
        return error_response(request, 422, "the request is invalid", details=field_messages(error.errors))
    headers = {"WWW-Authenticate": 'Bearer realm="eva"'} if status == 401 else None
    return error_response(request, status, error.detail, headers=headers)


def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    items = error.errors()
    if json_invalid(items):
        return error_response(request, 400, "the request body is not valid JSON")
    details = [
        FieldMessage(
            fieldName=field_name(item["loc"]),
            message=message_of(item),
            errorCode="REQUIRED" if item.get("type") == "missing" else "INVALID_VALUE",
        )
        for item in items
    ]
    return error_response(request, 422, "the request is invalid", details=details)


def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    if unparsable_body(error):
        return error_response(request, 400, "the request body could not be parsed")
    return error_response(request, error.status_code, str(error.detail), headers=error.headers)


def _too_large(request: Request, error: Exception) -> JSONResponse:
    return error_response(request, 413, str(error))


ANSWERS = ErrorAnswers(
    log=logging.getLogger("tenantry.dialects.eva"),
    answer=error_response,
    domain=_domain_error,
    invalid_request=_validation_error,
    http=_http_error,
    descriptions={
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        413: "Payload Too Large",
        422: "Unprocessable Entity",
    },
    model=lambda status: ValidationError if status == 422 else StandardError,  # 422: a ValidationError
    others={ImportLimitExceeded: _too_large},
)
install = ANSWERS.install
errors = ANSWERS.documented
