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


class PartnerAccount(BaseModel):
    id: str
    email: str
    status: str = Field(description="`active`, `invited` or `disabled` here, after this call.")


class PartnerRevocation(BaseModel):
    """What revoking a link leaves behind: the accounts the partner's members created or added here."""

    partner_org: OrgBrief
    created_accounts: list[PartnerAccount] = Field(
        description="Members of this organization that the partner's members created or added while acting "
        "through the link (from the audit log), oldest first; review them."
    )
    disabled: list[str] = Field(
        description="Ids of those disabled by this call: the accounts brought in (`disable_created=true`: every "
        "one, however many) and those in `readdressed_accounts`. The list, like the others, holds at most 500."
    )
    readdressed_accounts: list[PartnerAccount] = Field(
        default_factory=list,
        description="Members whose email address is still the one the partner's members set here: a reset would "
        "mail the partner. This call disables them (`disable_created` or not; the account too); give each an "
        "address of the member's own, then enable them.",
    )
    signed_out_accounts: list[PartnerAccount] = Field(
        default_factory=list,
        description="Members whose sign-in the partner's members handled here (a magic link, a password or email "
        "address set, second factors imported or reset): every session of theirs and every link not spent yet "
        "ended with this call. A password the partner set still works until it is changed.",
    )
    truncated: bool = Field(
        description="True when there were more than a list of the report holds (500): the lists are cut, never "
        "the clean-up."
    )


class PartnerLinkPage(BaseModel):
    items: list[PartnerLinkOut]
    next_cursor: str | None
