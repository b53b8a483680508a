from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from tenantry.core.fields import Attributes, Email, Name, RoleRef, not_null, storable

Password = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(storable)]
PasswordHash = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(storable)]
Locale = Annotated[str, Field(pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$", max_length=35)]
AvatarUrl = Annotated[str, Field(max_length=2048, pattern=r"^https?://\S+$")]
Region = Annotated[
    str,
    Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 country code (stored upper case)."),
    AfterValidator(str.upper),
]
MemberStatus = Literal["active", "disabled", "invited"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    first_name: Name = ""
    last_name: Name = ""
    password: Password | None = Field(default=None, description="Without one (or a password_hash) the user is invited.")
    password_hash: PasswordHash | None = Field(
        default=None,
        description="A hash imported from another system instead of a password: argon2, bcrypt, pbkdf2-sha256, "
        "pbkdf2-sha512 or scrypt (PHC or modular-crypt form); re-hashed to argon2id at the first sign-in.",
    )
    roles: list[RoleRef] | None = Field(default=None, max_length=50, description="Role names or ids; default member.")
    locale: Locale | None = None
    avatar_url: AvatarUrl | None = None
    attributes: Attributes = Field(default_factory=dict)
    region: Region | None = None
    settings: Attributes = Field(default_factory=dict, description="The user's own preferences.")
    email_verified: bool = False
    password_change_required: bool = False

    @model_validator(mode="after")
    def _one_secret(self) -> "UserCreate":
        if self.password is not None and self.password_hash is not None:
            raise ValueError("give at most one of password and password_hash")
        return self


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    locale: Locale | None = None
    avatar_url: AvatarUrl | None = None
    attributes: Attributes | None = None
    region: Region | None = None
    settings: Attributes | None = None
    email_verified: bool | None = None

    _not_null = field_validator("email", "first_name", "last_name", "attributes", "settings", "email_verified")(
        not_null
    )


class UserOut(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str
    status: MemberStatus = Field(description="What the user may do here: disabled, invited or active.")
    email_verified: bool
    roles: list[str]
    membership_status: MemberStatus
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    locale: str | None
    avatar_url: str | None
    attributes: dict[str, JsonValue]
    region: str | None
    settings: dict[str, JsonValue]
    password_change_required: bool


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class RolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[RoleRef] = Field(max_length=50)


class PasswordSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password
    require_change: bool = Field(default=False, description="The user must change it at next login.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Password
    new_password: Password


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = None
    email: Email | None = None
    roles: list[RoleRef] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _one_reference(self) -> "MemberAdd":
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id and email")
        return self
