from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from tenantry.core.fields import Name, Slug, Text, not_null, storable

# An absolute http(s) URL without a fragment: where hosted sign-ins send the browser with a one-time code.
RedirectUrl = Annotated[str, Field(max_length=2048, pattern=r"^https?://[^\s#]+$"), AfterValidator(storable)]


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
    login_redirect_url: RedirectUrl | None = Field(
        default=None,
        description="After a hosted sign-in for this organization, the browser goes here with `?code=` "
        "(exchange it at the token endpoint); null removes it. Kept in `settings`.",
    )

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
