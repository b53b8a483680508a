"""One error-handler skeleton for every HTTP surface.

Each surface (the native API, SCIM, every dialect) answers the same seven kinds of failure: a domain error,
an invalid request, an HTTP error raised by the framework, a database integrity error, a row changed or
removed by another request while this one changed it, a client gone before its body arrived (no traceback:
not our fault) and anything unexpected. The skeleton registers the
handlers, logs the integrity error and the unexpected one the same way everywhere, and leaves the status
table and the body to the surface's ``ErrorAnswers``.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from tenantry.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    TenantryError,
    Unauthenticated,
)

_SOURCES = ("body", "query", "path", "header")


CONFLICTING = "the change conflicts with existing data"
INTERNAL = "an internal error occurred; it has been logged"
CHANGED_MEANWHILE = "what this request changed was changed or removed by another request meanwhile; read it again"


@dataclass(frozen=True)
class ErrorAnswers:
    """A surface's answers: how it words each failure, which status it gives, and how its document says so.

    ``answer`` builds a plain error body from a status and a text; the integrity conflict (409) and the
    unexpected error (500) use it unless the surface words them otherwise (``conflict``).
    """

    log: logging.Logger
    answer: Callable[[Request, int, str], Response]
    domain: Callable[[Request, TenantryError], Response]
    invalid_request: Callable[[Request, RequestValidationError], Response]
    http: Callable[[Request, HTTPException], Response]
    descriptions: Mapping[int, str] = field(default_factory=dict)
    model: Callable[[int], type] = lambda _: dict
    conflict: Callable[[Request], Response] | None = None
    conflict_status: int = 409
    others: Mapping[type[Exception], Callable[[Request, Any], Response]] = field(default_factory=dict)

    def install(self, app: FastAPI) -> None:
        """Register the handlers on ``app``."""
        install(app, self)

    def documented(self, *statuses: int) -> dict[int | str, dict[str, Any]]:
        """OpenAPI entries for the error answers a route may give: each status's body model and description."""
        return {status: {"model": self.model(status), "description": self.descriptions[status]} for status in statuses}


def install(app: FastAPI, answers: ErrorAnswers) -> None:
    def domain(request: Request, error: Exception) -> Response:
        assert isinstance(error, TenantryError)
        return answers.domain(request, error)

    def invalid_request(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return answers.invalid_request(request, error)

    def http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return answers.http(request, error)

    def integrity(request: Request, error: Exception) -> Response:
        cause = type(error.__cause__ or error).__name__
        answers.log.info("integrity error mapped to %d: %s", answers.conflict_status, cause)
        if answers.conflict is not None:
            return answers.conflict(request)
        return answers.answer(request, 409, CONFLICTING)

    def changed_meanwhile(request: Request, error: Exception) -> Response:
        """A write found its row gone, or its version moved (``StaleDataError``): a path changed a row without
        holding it first, as core's changes do (``memberships.service.get``'s ``lock``). Answered as the
        surface's conflict, 409: it may be a deletion (where 404 would be true) or a change (where it would
        not), and reading again tells the caller which. Logged as a warning: the lock that was missing is ours."""
        answers.log.warning("a row changed or was removed meanwhile: %s", error)
        return answers.domain(request, Conflict(CHANGED_MEANWHILE))

    def disconnected(request: Request, _: Exception) -> Response:
        """The client went away before its body arrived: nobody reads the answer, and it is no fault of ours."""
        answers.log.info("the client disconnected before sending its whole request")
        return answers.answer(request, 400, "the client disconnected before sending its whole request")

    def unexpected(request: Request, error: Exception) -> Response:
        answers.log.exception("unhandled error", exc_info=error)
        return answers.answer(request, 500, INTERNAL)

    for kind, answer in answers.others.items():
        app.add_exception_handler(kind, answer)
    app.add_exception_handler(TenantryError, domain)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(IntegrityError, integrity)
    app.add_exception_handler(StaleDataError, changed_meanwhile)
    app.add_exception_handler(ClientDisconnect, disconnected)
    app.add_exception_handler(Exception, unexpected)


# The statuses a core error maps to on most surfaces; a surface adds or words its own before looking here.
STATUSES: tuple[tuple[type[TenantryError], int], ...] = (
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (RateLimited, 429),
)


def status_for(error: TenantryError, default: int, table: Iterable[tuple[type[TenantryError], int]] = STATUSES) -> int:
    """The status of the first kind in ``table`` the error is (a subclass maps through its nearest base)."""
    return next((status for kind, status in table if isinstance(error, kind)), default)


def unparsable_body(error: HTTPException) -> bool:
    """FastAPI could not decode the body (bytes that are not UTF-8, a broken form)."""
    return error.status_code == 400 and error.__cause__ is not None


def json_invalid(items: Iterable[Mapping[str, Any]]) -> bool:
    return any(item.get("type") == "json_invalid" for item in items)


def message_of(item: Mapping[str, Any]) -> str:
    """pydantic's message for one invalid field, without its ``Value error,`` prefix."""
    return str(item["msg"]).removeprefix("Value error, ")


def field_name(location: Iterable[int | str], *, dotted: bool = False, sources: tuple[str, ...] = _SOURCES) -> str:
    """The field a validation error names, without where it came from: ``roles[0].name``, or ``roles.0.name``
    where ``dotted``."""
    location = tuple(location)
    parts = location[1:] if location and location[0] in sources else location
    if dotted:
        return ".".join(str(part) for part in parts) or "body"
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or str(location[0] if location else "body")
