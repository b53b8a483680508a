"""telm's shapes, as the vendor's tables give them (snake_case, users named by email)."""

from typing import Literal

from pydantic import BaseModel, Field

from tenantry.core.fields import Name

TelmRole = Literal["admin", "user"]


class TelmUser(BaseModel):
    email: str
    first_name: str
    id: str
    last_name: str
    role: TelmRole = Field(description="The user's role in this tenant: `admin` (owner or admin) or `user`.")


class Assignment(BaseModel):
    role: TelmRole


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    expires: int = Field(description="Seconds until the access token expires.", examples=[3600])
    token_type: str = Field(examples=["Bearer"])


class ApiKeyCreate(BaseModel):
    name: Name = Field(min_length=1)


class ApiKeyOut(BaseModel):
    id: str
    name: str


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key, for the `X-TLM-Key` header. Shown in this answer only.")


class ApiKeyList(BaseModel):
    keys: list[ApiKeyOut]
