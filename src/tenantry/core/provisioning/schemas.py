"""What an identity provider may set on a member and on a role (validated like every core input)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tenantry.core.fields import Email, Name, Profile, StorableStr
from tenantry.core.roles.schemas import ProvisionedRoleName
from tenantry.core.users.schemas import Password

ExternalId = Annotated[StorableStr, Field(min_length=1, max_length=255)]


class MemberProvision(BaseModel):
    """A member as the identity provider describes it; ``active``/``password`` None leave them as they are."""

    model_config = ConfigDict(extra="forbid")
    email: Email
    first_name: Name = ""
    last_name: Name = ""
    external_id: ExternalId | None = None
    profile: Profile = Field(default_factory=dict)
    active: bool | None = None
    password: Password | None = None


class RoleProvision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ProvisionedRoleName
    external_id: ExternalId | None = None


@dataclass(frozen=True)
class RoleState:
    """A role's SCIM state in one organization: its version (the ETag), external id and last change."""

    version: int
    external_id: str | None
    updated_at: datetime | None
