"""What an import makes of each row: a candidate to create, or an outcome (created, present, failed).

A reason is written in the language of the work at hand: the admin's on the console (their browser's), English
on the command line and the API."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tenantry.core.fields import Email, storable
from tenantry.i18n import _

CREATED = "created"
PRESENT = "present"
FAILED = "failed"

_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


@dataclass(frozen=True)
class Outcome:
    line: int
    email: str
    status: str
    reason: str = ""


@dataclass
class Candidate:
    """A row that parsed: an account to create with its organization-wide and scoped roles."""

    line: int
    email: str
    first_name: str = ""
    last_name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    password: str | None = None
    """Plaintext, hashed with argon2id before it is stored."""
    password_hash: str | None = None
    """Imported from another system, stored as it is (rehashed at the first sign-in)."""
    email_verified: bool = False
    status: str | None = None
    """The membership's status when the file says (an export does), else active with a password, invited without."""
    roles: list[str] = field(default_factory=list)
    scoped: list[tuple[str, str]] = field(default_factory=list)
    """(role name, resource ref) pairs."""
    totp_secret: str | None = None
    """The base32 secret of an authenticator app enrolled elsewhere (sealed before it is stored)."""
    locale: str | None = None
    """The account's language tag (``fr``, ``de-AT``): its invitation and pages speak it."""
    context: dict[str, str] = field(default_factory=dict)
    """What a format's own checks need later (eva: the environment and bot named by the row)."""


def checked_email(raw: str, problems: list[str]) -> str:
    """The normalized email, or ``raw`` with a problem noted."""
    if not raw:
        problems.append(_("email is required"))
        return raw
    try:
        return _EMAIL.validate_python(raw)
    except ValidationError:
        problems.append(_("email is not a valid email address"))
        return raw


def checked_text(name: str, value: str, problems: list[str], *, max_length: int = 200) -> str:
    try:
        storable(value)
    except ValueError as error:
        problems.append(_("%(column)s %(problem)s") % {"column": name, "problem": _(str(error))})
    if len(value) > max_length:
        problems.append(_("%(column)s must be at most %(count)s characters") % {"column": name, "count": max_length})
    return value
