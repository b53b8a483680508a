"""eva's bulk-create CSV: ``email;name;company;role;password;environmentUuid;environmentName;bot``.

The vendor's rules: a unique email in the organization, one role per user (ADMIN, SUPERVISOR, EDITOR or
VIEWER), the password policy (at least 6 characters, an uppercase and a lowercase letter, a digit or a
special character), EDITOR and VIEWER need environment and bot, SUPERVISOR needs the environment, and
environment and bot must exist, be active and be related. A first row that names the columns is skipped.

ADMIN becomes the built-in ``admin`` role; the others get the built-in ``member`` role organization-wide
and their own role scoped to the environment (SUPERVISOR) or to the bot (EDITOR, VIEWER).
"""

import re
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.policy import PasswordPolicy
from tenantry.core.imports.records import EXTRA_CELLS, Record
from tenantry.core.imports.rows import FAILED, Candidate, Outcome, checked_email, checked_text
from tenantry.core.resources import repository as resources
from tenantry.core.resources.models import BOT, ENVIRONMENT
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.errors import FieldError

COLUMNS = ("email", "name", "company", "role", "password", "environmentUuid", "environmentName", "bot")
EVA_ROLES = ("ADMIN", "SUPERVISOR", "EDITOR", "VIEWER")
ROLE_OF = {"ADMIN": "admin", "SUPERVISOR": "supervisor", "EDITOR": "editor", "VIEWER": "viewer"}
PASSWORD_RULE = (
    "password must have at least 6 characters, an uppercase letter, a lowercase letter and a digit or special character"
)
_SPECIAL_OR_DIGIT = re.compile(r"[^A-Za-z]")


def password_ok(password: str) -> bool:
    """eva's (Keycloak's default) policy: >= 6 characters, upper, lower, and a digit or special character."""
    return (
        len(password) >= 6
        and any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and _SPECIAL_OR_DIGIT.search(password) is not None
    )


class EvaPasswordPolicy(PasswordPolicy):
    """eva's password rule, for passwords set through the eva dialect."""

    def broken_rules(self, password: str, context: Sequence[str] = (), field: str = "password") -> list[FieldError]:
        broken = [] if password_ok(password) else [FieldError(field, PASSWORD_RULE.removeprefix("password "))]
        if len(password) > self.max_length:
            text = f"must be at most {self.max_length} characters"
            broken.append(FieldError(field, text, code="max_length", params=(("value", self.max_length),)))
        return broken


EVA_PASSWORD_POLICY = EvaPasswordPolicy(min_length=6)


def role_requirements(role: str, environment: str, environment_name: str, bot: str) -> list[str]:
    """What a role needs besides itself: EDITOR/VIEWER environment and bot, SUPERVISOR the environment."""
    if role in ("EDITOR", "VIEWER") and not (environment and environment_name and bot):
        return [f"{role} requires environmentUuid, environmentName and bot"]
    if role == "SUPERVISOR":
        if not (environment and environment_name):
            return ["SUPERVISOR requires environmentUuid and environmentName"]
        if bot:
            return ["SUPERVISOR is granted an environment, not a bot: leave bot empty"]
    return []


class EvaFormat:
    name = "eva"
    delimiter = ";"
    max_fields = len(COLUMNS) + EXTRA_CELLS
    existing_member_is_present = False

    def duplicate(self, first_line: int) -> str:
        return f"a user may only have one role: the email is on line {first_line} already"

    def header(self, record: Record) -> bool:
        """True (skip it) when the first record names the columns; eva files may start with data."""
        return [cell.strip().lower() for cell in record.fields[:2]] == ["email", "name"]

    def parse(self, record: Record) -> Candidate | Outcome:
        cells = [cell.strip() for cell in record.fields]
        email_cell = cells[0] if cells else ""
        if len(cells) != len(COLUMNS):
            return Outcome(record.line, email_cell, FAILED, f"expected {len(COLUMNS)} columns separated by ';'")
        _, name, company, role, password, environment, environment_name, bot = cells
        problems: list[str] = []
        email = checked_email(email_cell, problems)
        if not name:
            problems.append("name is required")
        checked_text("name", name, problems)
        checked_text("company", company, problems)
        role = role.upper()
        if role not in EVA_ROLES:
            problems.append(f"role must be one of {', '.join(EVA_ROLES)}")
        if not password_ok(password):
            problems.append(PASSWORD_RULE)
        checked_text("password", password, problems, max_length=1024)
        problems.extend(role_requirements(role, environment, environment_name, bot))
        for label, value in (("environmentUuid", environment), ("environmentName", environment_name), ("bot", bot)):
            checked_text(label, value, problems)
        if problems:
            return Outcome(record.line, email, FAILED, "; ".join(problems))
        candidate = Candidate(
            line=record.line,
            email=email,
            first_name=name,
            attributes={"company": company} if company else {},
            password=password,
            roles=["admin" if role == "ADMIN" else DEFAULT_ROLE.name],
        )
        if role == "SUPERVISOR":
            candidate.scoped = [(ROLE_OF[role], environment)]
        elif role != "ADMIN":
            candidate.scoped = [(ROLE_OF[role], bot)]
        if role != "ADMIN":
            candidate.context = {"environment": environment, "environment_name": environment_name, "bot": bot}
        return candidate

    async def check(self, session: AsyncSession, org_id: str, candidates: list[Candidate]) -> dict[int, str]:
        """Environment and bot exist, are active and are related; the environment's name matches."""
        refs = {c.context[key] for c in candidates if c.context for key in ("environment", "bot") if c.context[key]}
        found = await resources.find(session, org_id, refs)
        failures: dict[int, str] = {}
        for candidate in candidates:
            if not candidate.context:
                continue
            env_ref, bot_ref = candidate.context["environment"], candidate.context["bot"]
            problems: list[str] = []
            environment = found.get(env_ref)
            if environment is None or environment.type != ENVIRONMENT:
                problems.append(f"environment {env_ref} does not exist")
            elif not environment.active:
                problems.append(f"environment {env_ref} is not active")
            elif environment.name != candidate.context["environment_name"]:
                problems.append(f"environmentName does not match the name of environment {env_ref}")
            if bot_ref:
                bot = found.get(bot_ref)
                if bot is None or bot.type != BOT:
                    problems.append(f"bot {bot_ref} does not exist")
                elif not bot.active:
                    problems.append(f"bot {bot_ref} is not active")
                elif environment is not None and bot.parent_id != environment.id:
                    problems.append(f"bot {bot_ref} does not belong to environment {env_ref}")
            if problems:
                failures[candidate.line] = "; ".join(problems)
        return failures
