"""Domain errors. They know nothing of HTTP: each API surface maps them once to its own error body.

Every error carries a ``detail`` safe to show to the caller (never a secret).
"""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid field: ``message`` for developers (English); ``code`` names the rule broken, when there is one
    (the API returns it in a field of its own; hosted pages turn it into plain words in the user's language)."""

    field: str
    message: str
    code: str | None = None
    params: tuple[tuple[str, str | int], ...] = ()


class TenantryError(Exception):
    """Base of every error a service raises on purpose.

    ``keep_changes`` asks the unit of work to commit what was done before the error (security
    bookkeeping such as revoking a reused refresh-token family) instead of rolling it back.
    """

    def __init__(self, detail: str, *, keep_changes: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.keep_changes = keep_changes


class NotFound(TenantryError):
    """The thing does not exist, or the caller may not know that it does."""


class OrganizationNotFound(NotFound):
    """The organization in the path does not exist, or the caller does not belong to it (the two look alike)."""


class Conflict(TenantryError):
    """The change collides with existing state (a duplicate, the last owner, a role in use)."""


class AlreadyExists(Conflict):
    """The thing would duplicate one that exists (an email, a role name): a uniqueness conflict."""


class PermissionDenied(TenantryError):
    """The caller is known and may see the thing, but may not do this to it."""


class Unauthenticated(TenantryError):
    """No valid credentials came with the request."""


class InvalidInput(TenantryError):
    """The request is well-formed but breaks a rule; ``errors`` names each field and why."""

    def __init__(self, errors: list[FieldError], detail: str | None = None, *, keep_changes: bool = False) -> None:
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors), keep_changes=keep_changes)
        self.errors = errors


class InvalidFilter(InvalidInput):
    """A search filter (or sort) that cannot be applied here: an attribute that cannot be filtered on, an
    operator that does not fit it. ``detail`` says which; SCIM answers 400 ``invalidFilter``."""

    def __init__(self, detail: str) -> None:
        super().__init__([FieldError("filter", detail)], detail)


class OAuthError(TenantryError):
    """An OAuth 2.0 token endpoint error (RFC 6749 section 5.2), e.g. ``invalid_grant``.

    ``extra`` holds further members of the error body (the change ticket of ``password_change_required``,
    the ``mfa_token`` of ``mfa_required``).
    """

    def __init__(
        self,
        error: str,
        detail: str,
        *,
        keep_changes: bool = False,
        extra: Mapping[str, str | int | list[str]] | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(detail, keep_changes=keep_changes)
        self.error = error
        self.extra = dict(extra or {})
        self.status = status
        """400, or 401 for ``invalid_client`` (RFC 6749 section 5.2)."""


class RateLimited(TenantryError):
    """Too many requests from this client; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class MalformedBody(InvalidInput):
    """The request body (or, ``part="query"``, its query string) could not be read at all (not JSON, not UTF-8,
    nested too deeply, a broken multipart): the client's mistake, named with the position where reading stopped."""

    def __init__(self, message: str, part: str = "body") -> None:
        super().__init__([FieldError(part, message)], detail=f"the request {part} {message}")
