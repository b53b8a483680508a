import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from tenantry.core.fields import Text, not_null, storable
from tenantry.core.roles.permissions import PERMISSIONS
from tenantry.db.ids import is_id
from tenantry.i18n import N_

APP_PERMISSION = re.compile(r"^[a-z][a-z0-9_-]{0,49}:[a-z][a-z0-9_.-]{0,49}$")
TENANTRY_DOMAINS = frozenset(name.split(":")[0] for name in PERMISSIONS)
RoleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


def _provisioned_name(value: str) -> str:
    if value != value.strip() or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError(N_("must not contain control characters or start or end with spaces"))
    if is_id(value):
        raise ValueError(N_("must not look like an id (24 hexadecimal characters)"))
    return value


ProvisionedRoleName = Annotated[
    str, Field(min_length=1, max_length=64), AfterValidator(storable), AfterValidator(_provisioned_name)
]
"""A role name as an identity provider's group has it (SCIM Group displayName): any printable text,
spaces included, since group names in Okta or Entra ID are written for people."""
Permission = Annotated[str, Field(max_length=100), AfterValidator(storable)]


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
    application: bool = Field(default=False, description="Registered by the application, not Tenantry's own.")


def _app_permission(value: str) -> str:
    if not APP_PERMISSION.fullmatch(value):
        raise ValueError(N_("must be 'domain:action' in lowercase letters, digits, '_', '-' and '.'"))
    if value.split(":")[0] in TENANTRY_DOMAINS:
        raise ValueError(N_("the domain is one of Tenantry's own; choose your application's"))
    return value


class AppPermissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(max_length=100), AfterValidator(_app_permission)]
    description: Text = ""


class ProvisionedRoleCreate(RoleCreate):
    """A role created by an identity provider (a SCIM Group): its name may be any printable text."""

    name: ProvisionedRoleName


class ProvisionedRoleUpdate(RoleUpdate):
    name: ProvisionedRoleName | None = None
