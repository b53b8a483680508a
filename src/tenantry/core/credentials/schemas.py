from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from tenantry.core.credentials.policy import PasswordPolicy
from tenantry.core.fields import not_null, storable
from tenantry.errors import FieldError, InvalidInput

PASSWORD_MAX = 1024
BlockedWord = Annotated[str, Field(min_length=3, max_length=64), AfterValidator(storable)]


class PasswordPolicyOut(BaseModel):
    """The password rules in force in an organization."""

    min_length: int
    max_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_digit: bool
    require_symbol: bool
    min_character_classes: int = Field(description="Of lowercase, uppercase, digits, symbols: how many must appear.")
    block_common: bool = Field(description="Refuse the shipped list of commonly used passwords.")
    block_context: bool = Field(description="Refuse passwords containing the email, names or organization name.")
    blocked_words: list[str] = Field(description="Words of the organization's own no password may contain.")

    @classmethod
    def of(cls, policy: PasswordPolicy) -> "PasswordPolicyOut":
        return cls.model_validate(policy.as_settings())


class PasswordPolicyUpdate(BaseModel):
    """Changes to the password rules; fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")
    min_length: int | None = Field(default=None, ge=1, le=PASSWORD_MAX)
    max_length: int | None = Field(default=None, ge=1, le=PASSWORD_MAX)
    require_lowercase: bool | None = None
    require_uppercase: bool | None = None
    require_digit: bool | None = None
    require_symbol: bool | None = None
    min_character_classes: int | None = Field(default=None, ge=0, le=4)
    block_common: bool | None = None
    block_context: bool | None = None
    blocked_words: list[BlockedWord] | None = Field(default=None, max_length=200)

    _not_null = field_validator(
        "min_length",
        "max_length",
        "require_lowercase",
        "require_uppercase",
        "require_digit",
        "require_symbol",
        "min_character_classes",
        "block_common",
        "block_context",
        "blocked_words",
    )(not_null)

    def applied_to(self, current: PasswordPolicy, *, field: str = "password_policy") -> PasswordPolicy:
        """``current`` with these changes; 422 when the result contradicts itself."""
        merged = {**current.as_settings(), **self.model_dump(exclude_unset=True)}
        merged["blocked_words"] = sorted({word.lower() for word in merged["blocked_words"]})
        if merged["min_length"] > merged["max_length"]:
            message = f"must be at least min_length ({merged['min_length']})"
            raise InvalidInput([FieldError(f"{field}.max_length", message)])
        return PasswordPolicy.from_settings(merged)
