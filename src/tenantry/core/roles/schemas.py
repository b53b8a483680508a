from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantry.core.fields import Text, not_null

RoleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Permission = Annotated[str, Field(max_length=100)]


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: RoleName
    description: Text = ""
    permissions: list[Permission] = Field(default_factory=list, max_length=200)


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: RoleName | None = None
    description: Text | None = None
    permissions: list[Permission] | None = Field(default=None, max_length=200)

    _not_null = field_validator("name", "description", "permissions")(not_null)


class RoleOut(BaseModel):
    id: str
    name: str
    description: str
    permissions: list[str]
    builtin: bool
    created_at: datetime
    updated_at: datetime


class PermissionOut(BaseModel):
    name: str
    description: str
