from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from tenantry.core.fields import Name, Slug, Text, not_null


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    slug: Slug
    description: Text | None = None


class OrgUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    slug: Slug | None = None
    description: Text | None = None

    _not_null = field_validator("name", "slug")(not_null)


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    slug: str
    name: str
    description: str | None
    status: str
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class OrgPage(BaseModel):
    items: list[OrgOut]
    next_cursor: str | None
