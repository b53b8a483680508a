"""The vendor's DTOs, field for field (snake_case JSON, as its Spring service answers).

Request bodies ignore unknown fields, as Jackson does in Spring Boot; the limits are the vendor's
(``CreateUserReqDto``), checked before the core's own rules (a well-formed email, the password policy).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tenantry.core.fields import Email, Name, within
from tenantry.core.users.schemas import Password


class CreateUserReqDto(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: within(Email, max_length=319)  # type: ignore[valid-type]
    password: within(Password, min_length=8, max_length=64)  # type: ignore[valid-type]
    ask_user_to_update_password_on_login: bool | None = Field(
        default=None, description="Default false: when true, the user must change the password at next login."
    )
    first_name: within(Name, max_length=40)  # type: ignore[valid-type]
    last_name: within(Name, max_length=40)  # type: ignore[valid-type]


class CreateUserRespDto(BaseModel):
    user_id: str


class UserPasswordReqDto(BaseModel):
    model_config = ConfigDict(extra="ignore")

    password: Password
    ask_user_to_update_password_on_login: bool | None = Field(
        default=None, description="Accepted; a reset always requires a change at next login."
    )


class MagicLinkRespDto(BaseModel):
    url: str


class GetUserRespDto(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str


class PaginatedItemGetUserRespDto(BaseModel):
    items: list[GetUserRespDto]
    has_more: bool


class ErrorRespDto(BaseModel):
    error_code: int = Field(description="HTTP status * 10000 + sequence, e.g. 4030001")
    error_message: str = Field(description="The code's name, e.g. FORBIDDEN")
    error_description: str
    payload: dict[str, Any] = Field(description="For 422: each offending field and why; otherwise empty")
