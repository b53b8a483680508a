"""Tenantry's own CSV format: a header row, comma-separated, columns by name.

Columns: ``email`` (required), ``first_name``, ``last_name``, ``password`` (plaintext, hashed here) or
``password_hash`` (imported from another system; argon2, bcrypt, PBKDF2 or scrypt), ``roles``
(role names separated by ``|``; default ``member``), ``email_verified`` (true/false), ``status`` (active,
invited or disabled; what an export writes), ``totp_secret`` (the base32 secret of the user's authenticator
app in the system migrated from: the account starts with it enrolled, the secret sealed with
``TENANTRY_SECRET_KEY``), ``locale`` (the account's language tag, ``fr`` or ``de-AT``: its invitation is mailed
in it). A row with neither password nor hash creates an invited user
unless its status says otherwise. A row whose email is already a member is *present*. Cells defused against
formula injection by an export (``csv_safe``) are restored.
"""

import re

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.hashes import UnsupportedHash, scheme_of
from tenantry.core.credentials.policy import plain_words, policy_for
from tenantry.core.imports.records import EXTRA_CELLS, Record, csv_restored
from tenantry.core.imports.rows import FAILED, Candidate, Outcome, checked_email, checked_text
from tenantry.core.mfa.service import normal_totp_secret
from tenantry.core.orgs.models import Organization
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.errors import FieldError, InvalidInput
from tenantry.i18n import _

COLUMNS = (
    *("email", "first_name", "last_name", "password", "password_hash", "roles", "email_verified", "status"),
    "totp_secret",
    "locale",
)
_LOCALE = re.compile(r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")
"""What the API accepts as a ``locale`` (``core.users.schemas.Locale``)."""
_STATUSES = {"active", "invited", "disabled"}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


class NativeFormat:
    name = "native"
    delimiter = ","
    max_fields = len(COLUMNS) + EXTRA_CELLS
    existing_member_is_present = True

    def __init__(self, org: Organization) -> None:
        self._org = org
        self._columns: dict[str, int] | None = None

    def duplicate(self, first_line: int) -> str:
        return _("the email is on line %(line)s already") % {"line": first_line}

    def header(self, record: Record) -> bool:
        """The first record names the columns; unknown or repeated names are refused before any row."""
        names = [name.strip().lower() for name in record.fields]
        unknown = [name for name in names if name not in COLUMNS]
        if unknown or len(set(names)) != len(names) or "email" not in names:
            known = ", ".join(COLUMNS)
            if unknown:
                detail = _("unknown columns %(unknown)s; expected some of %(known)s") % {
                    "unknown": unknown,
                    "known": known,
                }
            else:
                detail = _("columns must be unique and include email; expected some of %(known)s") % {"known": known}
            raise InvalidInput([FieldError("header", detail)])
        self._columns = {name: index for index, name in enumerate(names)}
        return True

    def parse(self, record: Record) -> Candidate | Outcome:
        assert self._columns is not None
        cells = {
            name: csv_restored(record.fields[index].strip()) if index < len(record.fields) else ""
            for name, index in self._columns.items()
        }
        problems: list[str] = []
        if len(record.fields) != len(self._columns):
            counts = {"expected": len(self._columns), "got": len(record.fields)}
            problems.append(_("expected %(expected)s columns, got %(got)s") % counts)
        email = checked_email(cells["email"], problems)
        first_name = checked_text("first_name", cells.get("first_name", ""), problems)
        last_name = checked_text("last_name", cells.get("last_name", ""), problems)
        password, password_hash = cells.get("password") or None, cells.get("password_hash") or None
        if password is not None and password_hash is not None:
            problems.append(_("give password or password_hash, not both"))
        elif password is not None:
            context = [email, first_name, last_name, self._org.name]
            broken = policy_for(self._org).broken_rules(password, context)
            problems.extend(_("password: %(rule)s") % {"rule": plain_words(rule)} for rule in broken)
        elif password_hash is not None:
            try:
                scheme_of(password_hash)
            except UnsupportedHash as error:
                problems.append(_("password_hash: %(problem)s") % {"problem": _(str(error))})
        verified = cells.get("email_verified", "").lower()
        if verified not in _TRUE | _FALSE:
            problems.append(_("email_verified must be true or false"))
        status = cells.get("status", "").lower() or None
        if status is not None and status not in _STATUSES:
            problems.append(_("status must be active, invited or disabled"))
        elif status == "invited" and (password or password_hash):
            problems.append(_("an invited user has no password yet"))
        roles = [
            checked_text("roles", name.strip(), problems, max_length=64)
            for name in cells.get("roles", "").split("|")
            if name.strip()
        ]
        totp_secret = cells.get("totp_secret") or None
        if totp_secret is not None:
            try:
                totp_secret = normal_totp_secret(totp_secret, "totp_secret")
            except InvalidInput as error:
                problems.append(_("totp_secret %(problem)s") % {"problem": _(error.errors[0].message)})
        locale = cells.get("locale") or None
        if locale is not None and (len(locale) > 35 or not _LOCALE.fullmatch(locale)):
            problems.append(_("locale must be a language tag such as fr or de-AT"))
        if problems:
            return Outcome(record.line, email, FAILED, "; ".join(problems))
        return Candidate(
            line=record.line,
            email=email,
            first_name=first_name,
            last_name=last_name,
            password=password,
            password_hash=password_hash,
            email_verified=verified in _TRUE,
            status=status,
            roles=roles or [DEFAULT_ROLE.name],
            totp_secret=totp_secret,
            locale=locale,
        )

    async def check(self, session: AsyncSession, org_id: str, candidates: list[Candidate]) -> dict[int, str]:
        return {}
