"""Tenantry's own CSV format: a header row, comma-separated, columns by name.

Columns: ``email`` (required), ``first_name``, ``last_name``, ``password`` (plaintext, hashed here) or
``password_hash`` (imported from another system; argon2, bcrypt, PBKDF2 or scrypt), ``roles``
(role names separated by ``|``; default ``member``), ``email_verified`` (true/false), ``status`` (active,
invited or disabled; what an export writes), ``totp_secret`` (the base32 secret of the user's authenticator
app in the system migrated from: the account starts with it enrolled, the secret sealed with
``TENANTRY_SECRET_KEY``). A row with neither password nor hash creates an invited user
unless its status says otherwise. A row whose email is already a member is *present*. Cells defused against
formula injection by an export (``csv_safe``) are restored.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.hashes import UnsupportedHash, scheme_of
from tenantry.core.credentials.policy import policy_for
from tenantry.core.imports.records import Record, csv_restored
from tenantry.core.imports.rows import FAILED, Candidate, Outcome, checked_email, checked_text
from tenantry.core.mfa.service import normal_totp_secret
from tenantry.core.orgs.models import Organization
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.errors import FieldError, InvalidInput

COLUMNS = (
    *("email", "first_name", "last_name", "password", "password_hash", "roles", "email_verified", "status"),
    "totp_secret",
)
_STATUSES = {"active", "invited", "disabled"}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


class NativeFormat:
    name = "native"
    delimiter = ","
    existing_member_is_present = True

    def __init__(self, org: Organization) -> None:
        self._org = org
        self._columns: dict[str, int] | None = None

    def duplicate(self, first_line: int) -> str:
        return f"the email is on line {first_line} already"

    def header(self, record: Record) -> bool:
        """The first record names the columns; unknown or repeated names are refused before any row."""
        names = [name.strip().lower() for name in record.fields]
        unknown = [name for name in names if name not in COLUMNS]
        if unknown or len(set(names)) != len(names) or "email" not in names:
            detail = f"unknown columns {unknown}" if unknown else "columns must be unique and include email"
            raise InvalidInput([FieldError("header", f"{detail}; expected some of {', '.join(COLUMNS)}")])
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
            problems.append(f"expected {len(self._columns)} columns, got {len(record.fields)}")
        email = checked_email(cells["email"], problems)
        first_name = checked_text("first_name", cells.get("first_name", ""), problems)
        last_name = checked_text("last_name", cells.get("last_name", ""), problems)
        password, password_hash = cells.get("password") or None, cells.get("password_hash") or None
        if password is not None and password_hash is not None:
            problems.append("give password or password_hash, not both")
        elif password is not None:
            context = [email, first_name, last_name, self._org.name]
            problems.extend(f"password {broken}" for broken in policy_for(self._org).violations(password, context))
        elif password_hash is not None:
            try:
                scheme_of(password_hash)
            except UnsupportedHash as error:
                problems.append(f"password_hash: {error}")
        verified = cells.get("email_verified", "").lower()
        if verified not in _TRUE | _FALSE:
            problems.append("email_verified must be true or false")
        status = cells.get("status", "").lower() or None
        if status is not None and status not in _STATUSES:
            problems.append("status must be active, invited or disabled")
        elif status == "invited" and (password or password_hash):
            problems.append("an invited user has no password yet")
        roles = [name.strip() for name in cells.get("roles", "").split("|") if name.strip()]
        totp_secret = cells.get("totp_secret") or None
        if totp_secret is not None:
            try:
                totp_secret = normal_totp_secret(totp_secret, "totp_secret")
            except InvalidInput as error:
                problems.append(f"totp_secret {error.errors[0].message}")
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
        )

    async def check(self, session: AsyncSession, org_id: str, candidates: list[Candidate]) -> dict[int, str]:
        return {}
