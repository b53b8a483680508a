from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tenantry.core.fields import Name, RoleRef


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1)
    roles: list[RoleRef] = Field(min_length=1, max_length=50)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    roles: list[str]
    prefix: str = Field(description="The key's first characters, to recognise it; the key itself is never shown again.")
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown in this answer only; store it now.")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None
