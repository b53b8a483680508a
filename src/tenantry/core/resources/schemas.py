from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantry.core.fields import Name, RoleRef, StorableStr, not_null

ResourceType = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="`environment`, `bot`, or a type of your own.")
]
ResourceId = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]
ExternalId = Annotated[StorableStr, Field(min_length=1, max_length=200, description="Unique in the organization.")]
ResourceRef = Annotated[StorableStr, Field(min_length=1, max_length=200, description="Resource id or external id.")]


class ResourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: ResourceType
    name: Name
    parent_id: ResourceId | None = Field(default=None, description="A bot's parent must be an environment.")
    external_id: ExternalId | None = None
    active: bool = True


class ResourceUpdate(BaseModel):
    """Only the fields given change; ``parent_id`` or ``external_id`` set to null clear them."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    parent_id: ResourceId | None = None
    external_id: ExternalId | None = None
    active: bool | None = None

    _not_null = field_validator("name", "active")(not_null)


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    type: str
    name: str
    parent_id: str | None
    external_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class ResourcePage(BaseModel):
    items: list[ResourceOut]
    next_cursor: str | None


class ScopedRole(BaseModel):
    """A role granted on one resource (and what lies beneath it)."""

    model_config = ConfigDict(extra="forbid")
    role: RoleRef = Field(description="Role name or id.")
    resource: ResourceRef


class ScopedRolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grants: list[ScopedRole] = Field(max_length=200)


class ScopedRoleOut(BaseModel):
    role: str
    resource_id: str
    resource_type: str
    resource_name: str
