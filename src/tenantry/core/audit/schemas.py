from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    action: str = Field(examples=["user.created"])
    org_id: str | None
    actor_user_id: str | None = Field(description="The user who acted (the impersonated one, under impersonation).")
    actor_api_key_id: str | None = Field(description="The API key that acted.")
    actor_client_id: str | None = Field(
        description="The application (OAuth client) whose access token the user acted with; null when they acted "
        "with their own credential (Tenantry's token endpoint, hosted pages, console), or for an API key."
    )
    impersonator_id: str | None = Field(description="Who was impersonating the acting user.")
    partner_org_id: str | None = Field(description="The partner organization the actor acted through.")
    target_type: str | None
    target_id: str | None
    request_id: str | None
    client_ip: str | None
    details: dict[str, Any]
    created_at: datetime


class AuditEventPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
