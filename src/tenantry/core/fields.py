"""Field types shared by the core's schemas: text every backend can store, and bounded JSON."""

import json
import math
import re
from functools import lru_cache
from typing import Annotated, Any, get_args

import email_validator
from annotated_types import MaxLen, MinLen
from pydantic import AfterValidator, Field, JsonValue
from pydantic.fields import FieldInfo

from tenantry.db.ids import ID_PATTERN
from tenantry.i18n import N_

# Directories name accounts under `.local` domains (Active Directory, Okta's own examples): the library's
# documented way to accept a special-use name is to take it off this list.
if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")

SLUG_PATTERN = re.compile(r"^[a-z0-9-]{2,100}$")
ATTRIBUTES_MAX_BYTES = 16 * 1024
PROFILE_MAX_BYTES = 64 * 1024
CONFIGURATION_MAX_BYTES = 64 * 1024


def storable(value: str) -> str:
    """Reject what PostgreSQL cannot store in text: NUL characters and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError(N_("must not contain NUL characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(N_("must be valid Unicode text")) from None
    return value


def not_null(value: Any) -> Any:
    """For PATCH bodies: a field may be left out, but not set to null when the thing cannot be empty."""
    if value is None:
        raise ValueError(N_("must not be null"))
    return value


def _slug(value: str) -> str:
    if not SLUG_PATTERN.fullmatch(value):
        raise ValueError(N_("must be 2 to 100 characters of a-z, 0-9 and '-'"))
    if ID_PATTERN.fullmatch(value):
        raise ValueError(N_("must not look like an id (24 hexadecimal characters)"))
    return value


_NOT_AN_EMAIL = N_("is not a valid email address")


def _checked(address: str) -> str:
    try:
        checked = email_validator.validate_email(
            address, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except email_validator.EmailNotValidError as error:
        raise ValueError(f"{_NOT_AN_EMAIL}: {error}") from None
    return checked.normalized


# A plain ASCII local part (RFC 5322 dot-atom), which the validator keeps exactly as given.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_LOCAL, _MAX_ADDRESS = 64, 254


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    """The validator's verdict on a domain, remembered: a bulk import checks the same few domains again and again."""
    return _checked(f"a@{domain}").partition("@")[2]


def _email(value: str) -> str:
    """An email address, normalized (domain lowercased); internal domains (.internal, .test, intranet
    names, `.local`) are accepted, since a self-hosted service often serves one.

    email-validator decides everything; for the common address (a plain local part) it is asked about the
    domain only, once per domain, which it answers the same way (tests/core/test_fields.py holds both to it).
    """
    local, at, domain = value.rpartition("@")
    if at and len(local) <= _MAX_LOCAL and _PLAIN_LOCAL.fullmatch(local):
        address = f"{local}@{_domain(domain)}"
        if len(address) <= _MAX_ADDRESS:
            return address
    return _checked(value)


def _check_json(value: Any, path: str = "") -> None:
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'value'}: numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            _check_json(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")


def _bounded_json(max_bytes: int) -> AfterValidator:
    """JSON every backend can store, at most ``max_bytes`` once serialized."""

    def check(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        _check_json(value)
        if len(json.dumps(value, ensure_ascii=False).encode()) > max_bytes:
            raise ValueError(f"must serialize to at most {max_bytes} bytes of JSON")
        return value

    return AfterValidator(check)


StorableStr = Annotated[str, AfterValidator(storable)]
Name = Annotated[str, Field(max_length=200), AfterValidator(storable)]
Text = Annotated[str, Field(max_length=2000), AfterValidator(storable)]
Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[
    str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(storable), AfterValidator(_email)
]


def within(kind: Any, *, min_length: int | None = None, max_length: int | None = None) -> Any:
    """``kind`` (a text type such as ``Name``: ``str``, its length ``Field``, its validators) held to narrower
    length limits, such as a vendor's. They take the place of the type's own, on the text as sent, so an error
    says "at least 8 characters"; annotated on top of ``kind`` they would follow its validators and pydantic
    would check them as a generic length ("at least 8 items after validation")."""
    text, own, *validators = get_args(kind)
    assert isinstance(own, FieldInfo), f"{kind} has no length Field to narrow"
    floor = max((limit.min_length for limit in own.metadata if isinstance(limit, MinLen)), default=0)
    ceiling = min((limit.max_length for limit in own.metadata if isinstance(limit, MaxLen)), default=None)
    low = floor if min_length is None else min_length
    high = ceiling if max_length is None else max_length
    if low < floor or (ceiling is not None and (high is None or high > ceiling)):
        raise ValueError(f"limits {low}..{high} are wider than the type's own, {floor}..{ceiling}")
    return Annotated[(text, own, Field(min_length=low, max_length=high), *validators)]


Attributes = Annotated[dict[str, JsonValue], _bounded_json(ATTRIBUTES_MAX_BYTES)]
RoleRef = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(storable)]
Profile = Annotated[dict[str, JsonValue], _bounded_json(PROFILE_MAX_BYTES)]
"""What an identity provider says about a member beyond the account's own fields (bounded JSON)."""
ConfigurationDocument = Annotated[dict[str, JsonValue], _bounded_json(CONFIGURATION_MAX_BYTES)]
"""Settings a user keeps per organization or per resource (bounded JSON)."""
