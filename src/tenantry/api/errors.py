"""RFC 9457 problem details for the native API: the one place domain errors become HTTP answers."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from tenantry.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    OAuthError,
    PermissionDenied,
    RateLimited,
    TenantryError,
    Unauthenticated,
)
from tenantry.web.errors import ErrorAnswers, field_name, message_of, unparsable_body

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("tenantry.errors")

# Domain error -> (status, problem slug). Subclasses map through their nearest listed base.
_STATUS: list[tuple[type[TenantryError], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (InvalidInput, 422, "invalid-input"),
    (OAuthError, 400, "oauth-error"),
    (RateLimited, 429, "rate-limited"),
]


class ProblemFieldError(BaseModel):
    field: str
    message: str
    code: str | None = Field(
        default=None, description="The rule broken, when one is named (a password policy rule such as `min_length`)."
    )


class Problem(BaseModel):
    """An error, as RFC 9457 describes it; ``errors`` lists each invalid field."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemFieldError] | None = None
    error: str | None = None
    error_description: str | None = None
    change_ticket: str | None = Field(default=None, description="With `password_change_required` only.")
    change_ticket_expires_in: int | None = Field(default=None, description="Seconds the change ticket stays valid.")
    mfa_token: str | None = Field(default=None, description="With `mfa_required` and `mfa_enrollment_required`.")
    mfa_token_expires_in: int | None = Field(default=None, description="Seconds the mfa_token stays valid.")
    mfa_methods: list[str] | None = Field(default=None, description="With `mfa_required`: `otp`, `recovery_code`.")


def problem_type(slug: str) -> str:
    return f"urn:tenantry:problem:{slug}"


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: str | int | list[str],
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [
            {"field": e.field, "message": e.message, **({"code": e.code} if e.code else {})} for e in errors
        ]
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _domain_error(_: Request, error: TenantryError) -> JSONResponse:
    status, slug = next((s, slug) for kind, s, slug in _STATUS if isinstance(error, kind))
    if isinstance(error, InvalidInput):
        return problem_response(status, slug, error.detail, errors=error.errors)
    if isinstance(error, OAuthError):
        members: dict[str, Any] = {"error": error.error, "error_description": error.detail, **error.extra}
        return problem_response(error.status, slug, error.detail, headers={"Cache-Control": "no-store"}, **members)
    if isinstance(error, RateLimited):
        return problem_response(status, slug, error.detail, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="tenantry"'}
        return problem_response(status, slug, error.detail, headers=headers)
    return problem_response(status, slug, error.detail)


def _validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    errors = [FieldError(field_name(item["loc"]), message_of(item)) for item in error.errors()]
    return problem_response(422, "invalid-input", "the request is invalid", errors=errors)


def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    if unparsable_body(error):
        errors = [FieldError("body", "could not be parsed")]
        return problem_response(422, "invalid-input", "the request body could not be parsed", errors=errors)
    return problem_response(error.status_code, "http", str(error.detail), headers=error.headers)


_SLUGS = {409: "conflict", 500: "internal"}
ANSWERS = ErrorAnswers(
    log=logging.getLogger("tenantry.errors"),
    answer=lambda _, status, text: problem_response(status, _SLUGS[status], text),
    domain=_domain_error,
    invalid_request=_validation_error,
    http=_http_error,
    descriptions={
        400: "The grant failed (OAuth 2.0 error)",
        401: "No valid credentials",
        403: "Not permitted",
        404: "Not found, or not visible to the caller",
        409: "Conflicts with existing state",
        422: "Invalid input; `errors` names each field",
        413: "The request body is larger than allowed",
        429: "Too many requests; `Retry-After` says in how many seconds to try again",
    },
    model=lambda _: Problem,
)
install = ANSWERS.install
problems = ANSWERS.documented
