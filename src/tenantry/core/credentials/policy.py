"""Password rules an organization applies (NIST SP 800-63B defaults: length only, 8 to 128)."""

from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.core.orgs.models import Organization
from tenantry.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128

    def violations(self, password: str, context: Sequence[str] = ()) -> list[str]:
        """Every rule ``password`` breaks; ``context`` holds words it must not be built from (email, names)."""
        broken = []
        if len(password) < self.min_length:
            broken.append(f"must be at least {self.min_length} characters")
        if len(password) > self.max_length:
            broken.append(f"must be at most {self.max_length} characters")
        return broken

    def check(self, password: str, *, field: str = "password", context: Sequence[str] = ()) -> None:
        """Raise InvalidInput naming every rule ``password`` breaks."""
        broken = self.violations(password, context)
        if broken:
            raise InvalidInput([FieldError(field, message) for message in broken])


DEFAULT_POLICY = PasswordPolicy()


def policy_for(org: Organization | None) -> PasswordPolicy:
    """The rules for passwords set in ``org`` (the defaults outside any organization)."""
    return DEFAULT_POLICY
