"""The vendor's ``ErrorRespDto`` for every error, with its numeric codes: HTTP status * 10000 + sequence.

The one place where core errors become saleschat answers. What the vendor documents decides the status:
an organization the caller cannot act in (or that does not exist) is 404 with the operation's own text
where the operation documents a 404 (those addressing a user), and 403 where it does not (create, search).
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tenantry.dialects.saleschat.schemas import ErrorRespDto
from tenantry.errors import (
    AlreadyExists,
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    OrganizationNotFound,
    PermissionDenied,
    RateLimited,
    TenantryError,
    Unauthenticated,
)
from tenantry.web.errors import ErrorAnswers, field_name, message_of

# The vendor names fields by where they sit in the body or the query, never in a header.
_SOURCES = ("body", "query", "path")


@dataclass(frozen=True)
class Code:
    status: int
    sequence: int
    name: str

    @property
    def number(self) -> int:
        return self.status * 10_000 + self.sequence


UNAUTHORIZED = Code(401, 1, "UNAUTHORIZED")
FORBIDDEN = Code(403, 1, "FORBIDDEN")
ORG_ACCESS_DENIED = Code(403, 2, "ORG_ACCESS_DENIED")
OPERATION_NOT_ALLOWED = Code(403, 3, "OPERATION_NOT_ALLOWED")
USER_NOT_FOUND = Code(404, 1, "USER_NOT_FOUND")
ORG_NOT_FOUND = Code(404, 2, "ORG_NOT_FOUND")
RESOURCE_NOT_FOUND = Code(404, 3, "RESOURCE_NOT_FOUND")
METHOD_NOT_ALLOWED = Code(405, 1, "METHOD_NOT_ALLOWED")
UQ_CONSTRAINT_FAILED = Code(409, 1, "UQ_CONSTRAINT_FAILED")
VALIDATION_FAILED = Code(422, 1, "VALIDATION_FAILED")
TOO_MANY_REQUESTS = Code(429, 1, "TOO_MANY_REQUESTS")
INTERNAL_ERROR = Code(500, 1, "INTERNAL_ERROR")
CODES = (
    UNAUTHORIZED, FORBIDDEN, ORG_ACCESS_DENIED, OPERATION_NOT_ALLOWED, USER_NOT_FOUND, ORG_NOT_FOUND,
    RESOURCE_NOT_FOUND, METHOD_NOT_ALLOWED, UQ_CONSTRAINT_FAILED, VALIDATION_FAILED, TOO_MANY_REQUESTS,
    INTERNAL_ERROR,
)  # fmt: skip

# The vendor's 404 text per operation (its OpenAPI document's descriptions); operations missing here
# document no 404.
NOT_FOUND_TEXTS = {
    "resetPassword": "UserId does not exist for this org",
    "generateMagicLink": "UserId does not exist for this org or user has been deleted",
    "deleteUser": "User Id does not exist",
    "disableUser": "userId does not exist for this org",
    "enableUser": "userId does not exist for this org",
}
NO_ORG_ACCESS = "orgId does not exist or you have no access to it"


def error_response(
    code: Code,
    description: str,
    payload: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorRespDto(
        error_code=code.number, error_message=code.name, error_description=description, payload=dict(payload or {})
    )
    return JSONResponse(body.model_dump(), status_code=code.status, headers=headers)


def validation_failed(errors: list[FieldError]) -> JSONResponse:
    fields: dict[str, str] = {}
    for error in errors:
        fields.setdefault(error.field, error.message)
    return error_response(VALIDATION_FAILED, "Required fields are missing or invalid values are provided", fields)


def _operation(request: Request) -> str | None:
    return getattr(request.scope.get("route"), "operation_id", None)


def _not_found(request: Request, code: Code) -> JSONResponse:
    text = NOT_FOUND_TEXTS.get(_operation(request) or "")
    if text is None:
        return error_response(ORG_ACCESS_DENIED, NO_ORG_ACCESS)
    return error_response(code, text)


def _domain_error(request: Request, error: TenantryError) -> JSONResponse:
    if isinstance(error, Unauthenticated):
        return error_response(UNAUTHORIZED, error.detail, headers={"WWW-Authenticate": 'Bearer realm="tenantry"'})
    if isinstance(error, OrganizationNotFound):
        return _not_found(request, ORG_NOT_FOUND)
    if isinstance(error, NotFound):
        return _not_found(request, USER_NOT_FOUND)
    if isinstance(error, PermissionDenied):
        return error_response(FORBIDDEN, error.detail)
    if isinstance(error, AlreadyExists):
        return error_response(UQ_CONSTRAINT_FAILED, error.detail)
    if isinstance(error, Conflict):
        return error_response(OPERATION_NOT_ALLOWED, error.detail)
    if isinstance(error, RateLimited):
        return error_response(TOO_MANY_REQUESTS, error.detail, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, InvalidInput):
        return validation_failed(error.errors)
    return validation_failed([FieldError("body", error.detail)])


def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    items = error.errors()
    if any(item["loc"][0] == "path" for item in items):
        # Only the organization is constrained in the path (at most 100 characters): none has such a name,
        # and an unknown organization answers before the body is looked at.
        return _domain_error(request, OrganizationNotFound(NO_ORG_ACCESS))
    return validation_failed(
        [
            FieldError(
                "body" if item["type"] == "json_invalid" else field_name(item["loc"], dotted=True, sources=_SOURCES),
                message_of(item),
            )
            for item in items
        ]
    )


def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    if error.status_code == 404:
        return error_response(RESOURCE_NOT_FOUND, "no such operation")
    if error.status_code == 405:
        return error_response(METHOD_NOT_ALLOWED, "method not allowed here", headers=error.headers)
    if error.status_code == 400:
        return validation_failed([FieldError("body", "could not be parsed")])
    code = Code(error.status_code, 1, _status_name(error.status_code))
    return error_response(code, str(error.detail), headers=error.headers)


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "ERROR"


_DESCRIPTIONS = {
    401: "Unauthorized - Authentication is required",
    403: "Forbidden - You don't have permission to access this resource",
    409: "A user with this email already exists (UQ_CONSTRAINT_FAILED)",
    422: "Required fields are missing or invalid values are provided",
}
_CODE_OF = {409: UQ_CONSTRAINT_FAILED, 500: INTERNAL_ERROR}
ANSWERS = ErrorAnswers(
    log=logging.getLogger("tenantry.dialects.saleschat"),
    answer=lambda _, status, text: error_response(_CODE_OF[status], text),
    domain=_domain_error,
    invalid_request=_request_invalid,
    http=_http_error,
)
install = ANSWERS.install


def documented(*statuses: int, not_found: str | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers an operation may give; ``not_found`` is its 404 text."""
    described = {**_DESCRIPTIONS, 404: not_found or ""}
    return {status: {"model": ErrorRespDto, "description": described[status]} for status in statuses}
