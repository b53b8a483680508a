from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from tenantry.core.credentials.policy import policy_from_settings
from tenantry.core.credentials.schemas import PasswordPolicyOut, PasswordPolicyUpdate
from tenantry.core.fields import Name, Slug, Text, not_null
from tenantry.core.orgs.branding import BrandingOut, BrandingUpdate


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
    password_policy: PasswordPolicyUpdate | None = Field(
        default=None,
        description="Changes to the password rules (fields left out keep their value); null restores the defaults.",
    )
    mfa_required: bool | None = Field(
        default=None,
        description="Members must sign in with a second factor (those without one enrol it first). Kept in `settings`.",
    )
    scim_send_invitations: bool | None = Field(
        default=None,
        description="Mail an invitation to each user SCIM provisions without a password (default false). "
        "Kept in `settings`.",
    )

    default_language: Literal["en", "fr", "de"] | None = Field(
        default=None,
        description="The language of the org's hosted pages and emails when neither the user's `locale` nor the "
        "browser names one (null: English). Kept in `settings`.",
    )
    branding: BrandingUpdate | None = Field(
        default=None,
        description="Display name, colour, support address and sender name of the org's pages and emails (fields "
        "left out keep their value; null resets them). The logo is uploaded at `PUT …/branding/logo`.",
    )

    _not_null = field_validator("name", "slug", "scim_send_invitations", "mfa_required")(not_null)


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
    branding: BrandingOut | None = Field(
        default=None, description="The org's branding (in the answers of `GET` and `PATCH /orgs/{org}`)."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def password_policy(self) -> PasswordPolicyOut:
        """The password rules in force (the defaults unless changed)."""
        return PasswordPolicyOut.of(policy_from_settings(self.settings))


class OrgPage(BaseModel):
    items: list[OrgOut]
    next_cursor: str | None
