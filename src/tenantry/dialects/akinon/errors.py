"""The vendor's error bodies: ``{apiError: [message]}`` (401, 403, 404), ``{validationError: {field: message}}`` (400).

The one place where core errors become akinon answers. An organization the caller cannot act in is
403 (the vendor documents no 404 on its collection routes, and an organization that does not exist
looks the same); a user who is not a member of the organization is 404.
"""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
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

log = logging.getLogger("tenantry.dialects.akinon")
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


def _dotted(location: tuple[int | str, ...]) -> str:
    parts = location[1:] if location and location[0] in ("body", "query", "path", "header") else location
    return ".".join(str(part) for part in parts) or "body"


def _message(item: Mapping[str, Any]) -> str:
    if item["type"] == "string_pattern_mismatch" and "{24}" in str(item.get("ctx", {}).get("pattern", "")):
        return MALFORMED_ID
    return str(item["msg"]).removeprefix("Value error, ")


def _request_invalid(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        FieldError("body" if item["type"] == "json_invalid" else _dotted(tuple(item["loc"])), _message(item))
        for item in error.errors()
    ]
    return validation_error(errors)


def _domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TenantryError)
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


def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 400:
        return validation_error([FieldError("body", "could not be parsed")])
    return api_error(error.status_code, str(error.detail), error.headers)


def _integrity_error(_: Request, error: Exception) -> JSONResponse:
    log.info("integrity error mapped to 400: %s", type(error.__cause__ or error).__name__)
    return validation_error([FieldError("body", "the change conflicts with existing data")])


def _unexpected(_: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return api_error(500, "an internal error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(TenantryError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)


_DESCRIPTIONS = {
    400: "Bad Request: `validationError` names each invalid field",
    401: "Unauthorized: no valid credentials",
    403: "Forbidden: no access to the organization, or no permission for this",
    404: "Not Found: no such user in this organization",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route may give."""
    return {
        status: {"model": ValidationErrorBody if status == 400 else ApiError, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }
