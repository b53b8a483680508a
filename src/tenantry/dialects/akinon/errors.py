"""The vendor's error bodies: ``{apiError: [message]}`` (401, 403, 404), ``{validationError: {field: message}}`` (400).

The one place where core errors become akinon answers. An organization the caller cannot act in is
403 (the vendor documents no 404 on its collection routes, and an organization that does not exist
looks the same); a user who is not a member of the organization is 404.
"""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tenantry.dialects.akinon.schemas import ApiError, ValidationErrorBody
from tenantry.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    OrganizationNotFound,
    PermissionDenied,
    TenantryError,
    Unauthenticated,
)
from tenantry.web.errors import CONFLICTING, ErrorAnswers, field_name, message_of

MALFORMED_ID = "must be a 24-character hexadecimal id"
NO_ACCESS = "you have no access to this organization"


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"apiError": [message]}, status_code=status, headers=headers)


def validation_error(errors: list[FieldError]) -> JSONResponse:
    fields: dict[str, str] = {}
    for error in errors:
        fields.setdefault(field_path(error.field), error.message)
    return JSONResponse({"validationError": fields}, status_code=400)


def field_path(name: str) -> str:
    """The core's ``roles[0]`` as the vendor's ``roles.0``."""
    return name.replace("[", ".").replace("]", "")


def _message(item: Mapping[str, Any]) -> str:
    if item["type"] == "string_pattern_mismatch" and "{24}" in str(item.get("ctx", {}).get("pattern", "")):
        return MALFORMED_ID
    return message_of(item)


def _request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        FieldError("body" if item["type"] == "json_invalid" else field_name(item["loc"], dotted=True), _message(item))
        for item in error.errors()
    ]
    return validation_error(errors)


def _domain_error(_: Request, error: TenantryError) -> JSONResponse:
    if isinstance(error, Unauthenticated):
        return api_error(401, error.detail, {"WWW-Authenticate": 'Bearer realm="tenantry"'})
    if isinstance(error, OrganizationNotFound):
        return api_error(403, NO_ACCESS)
    if isinstance(error, PermissionDenied | Conflict):
        return api_error(403, error.detail)
    if isinstance(error, NotFound):
        return api_error(404, error.detail)
    if isinstance(error, InvalidInput):
        return validation_error(error.errors)
    return validation_error([FieldError("body", error.detail)])


def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    if error.status_code == 400:
        return validation_error([FieldError("body", "could not be parsed")])
    return api_error(error.status_code, str(error.detail), error.headers)


ANSWERS = ErrorAnswers(
    log=logging.getLogger("tenantry.dialects.akinon"),
    answer=lambda _, status, text: api_error(status, text),
    domain=_domain_error,
    invalid_request=_request_invalid,
    http=_http_error,
    descriptions={
        400: "Bad Request: `validationError` names each invalid field",
        401: "Unauthorized: no valid credentials",
        403: "Forbidden: no access to the organization, or no permission for this",
        404: "Not Found: no such user in this organization",
    },
    model=lambda status: ValidationErrorBody if status == 400 else ApiError,
    conflict=lambda _: validation_error([FieldError("body", CONFLICTING)]),
    conflict_status=400,
)
install = ANSWERS.install
documented = ANSWERS.documented
