from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tenantry.core.fields import RoleRef, StorableStr


class PartnerGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner_org: StorableStr = Field(min_length=1, max_length=100, description="The partner organization's id or slug.")
    role: RoleRef = Field(description="Name or id of the role the partner's members act with here.")


class OrgBrief(BaseModel):
    id: str
    slug: str
    name: str


class RoleBrief(BaseModel):
    id: str
    name: str


class PartnerLinkOut(BaseModel):
    """Members of ``partner_org`` holding ``partners:act`` there act in ``customer_org`` with ``role``."""

    id: str
    customer_org: OrgBrief
    partner_org: OrgBrief
    role: RoleBrief
    created_at: datetime


class PartnerLinkPage(BaseModel):
    items: list[PartnerLinkOut]
    next_cursor: str | None
