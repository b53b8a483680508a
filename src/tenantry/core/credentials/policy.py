"""Password rules an organization applies (NIST SP 800-63B defaults: length only, 8 to 128)."""

from dataclasses import dataclass

from tenantry.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128

    def violations(self, password: str) -> list[str]:
        broken = []
        if len(password) < self.min_length:
            broken.append(f"must be at least {self.min_length} characters")
        if len(password) > self.max_length:
            broken.append(f"must be at most {self.max_length} characters")
        return broken

    def check(self, password: str, *, field: str = "password") -> None:
        """Raise InvalidInput naming every rule ``password`` breaks."""
        broken = self.violations(password)
        if broken:
            raise InvalidInput([FieldError(field, message) for message in broken])


DEFAULT_POLICY = PasswordPolicy()
