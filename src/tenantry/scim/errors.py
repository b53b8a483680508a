"""SCIM error bodies (RFC 7644 §3.12): every failure of the SCIM sub-application answers one, as
``application/scim+json``, with ``scimType`` where the RFC defines one."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from scim2_models import Error, SCIMException
from starlette.exceptions import HTTPException

from tenantry.errors import (
    AlreadyExists,
    Conflict,
    InvalidFilter,
    InvalidInput,
    MalformedBody,
    NotFound,
    PermissionDenied,
    TenantryError,
    Unauthenticated,
)
from tenantry.web.errors import CONFLICTING, ErrorAnswers, status_for, unparsable_body

SCIM_MEDIA_TYPE = "application/scim+json"
_STATUS = [(PermissionDenied, 403), (NotFound, 404), (Conflict, 409)]

# Core field names as SCIM attributes, so an error names what the client sent.
_ATTRIBUTES = {
    "email": "userName",
    "first_name": "name.givenName",
    "last_name": "name.familyName",
    "external_id": "externalId",
    "password": "password",
    "profile": "the attributes",
    "name": "displayName",
}


class ScimResponse(JSONResponse):
    media_type = SCIM_MEDIA_TYPE


def error_response(status: int, detail: str, scim_type: str | None = None, **headers: str) -> ScimResponse:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    return ScimResponse(body, status_code=status, headers=headers or None)


def scim_error(error: ValidationError) -> SCIMException:
    """The first problem of an invalid SCIM payload, as the exception RFC 7644 names for it."""
    return SCIMException.from_error(Error.from_validation_errors(error)[0])


def _attribute(field: str) -> str:
    head, _, rest = field.partition(".")
    return _ATTRIBUTES.get(head, head) + (f".{rest}" if rest else "")


def _scim_exception(_: Request, error: SCIMException) -> ScimResponse:
    return error_response(error.status, error.detail, error.scim_type or None)


def _domain_error(_: Request, error: TenantryError) -> ScimResponse:
    if isinstance(error, MalformedBody):
        return error_response(400, error.detail, "invalidSyntax")
    if isinstance(error, InvalidFilter):
        return error_response(400, error.detail, "invalidFilter")
    if isinstance(error, InvalidInput):
        detail = "; ".join(f"{_attribute(item.field)}: {item.message}" for item in error.errors)
        return error_response(400, detail, "invalidValue")
    if isinstance(error, Unauthenticated):
        return error_response(401, error.detail, **{"WWW-Authenticate": 'Bearer realm="tenantry-scim"'})
    if isinstance(error, AlreadyExists):
        return error_response(409, error.detail, "uniqueness")
    return error_response(status_for(error, 400, _STATUS), error.detail)


def _invalid_request(_: Request, error: RequestValidationError) -> ScimResponse:
    problems: list[Any] = list(error.errors())
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first.get("loc", ())[1:])
    return error_response(400, f"{where}: {first.get('msg')}" if where else str(first.get("msg")), "invalidValue")


def _http_error(_: Request, error: HTTPException) -> ScimResponse:
    if unparsable_body(error):
        return error_response(400, "the request body could not be parsed", "invalidSyntax")
    detail = str(error.detail) if error.detail else HTTPStatus(error.status_code).phrase
    return error_response(error.status_code, detail, **dict(error.headers or {}))


ANSWERS = ErrorAnswers(
    log=logging.getLogger("tenantry.scim"),
    answer=lambda _, status, text: error_response(status, text),
    domain=_domain_error,
    invalid_request=_invalid_request,
    http=_http_error,
    conflict=lambda _: error_response(409, CONFLICTING, "uniqueness"),
    others={SCIMException: _scim_exception},
)
install = ANSWERS.install
