from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tenantry.core.audit.models import AuditEvent


class EventActor(BaseModel):
    user_id: str | None = Field(description="The user who acted (the impersonated one, under impersonation).")
    api_key_id: str | None = Field(description="The API key that acted.")
    client_id: str | None = Field(
        description="The application (OAuth client) whose access token the user acted with; null when they acted "
        "with their own credential (Tenantry's token endpoint, hosted pages, console), or for an API key."
    )
    impersonator_id: str | None = Field(description="Who was impersonating the acting user.")
    partner_org_id: str | None = Field(description="The partner organization the actor acted through.")
    request_id: str | None = Field(description="The request that made the change (also in the logs).")


class EventTarget(BaseModel):
    type: str = Field(examples=["user"])
    id: str


class EventData(BaseModel):
    target: EventTarget | None = Field(description="What changed; fetch it from the API for its current state.")
    details: dict[str, Any] = Field(description="What the audit log records of the change (never a secret).")


class EventOut(BaseModel):
    """An event, as the feeds list it and as webhooks deliver it (the JSON body of a delivery)."""

    id: str = Field(description="Unique; the `webhook-id` of its deliveries.")
    type: str = Field(examples=["user.created"])
    timestamp: datetime
    org_id: str | None = Field(description="The organization it happened in; null for account-wide changes.")
    actor: EventActor
    data: EventData

    @classmethod
    def of(cls, event: AuditEvent) -> "EventOut":
        assert event.event_type is not None
        target = None
        if event.target_type is not None and event.target_id is not None:
            target = EventTarget(type=event.target_type, id=event.target_id)
        return cls(
            id=event.id,
            type=event.event_type,
            timestamp=event.created_at,
            org_id=event.org_id,
            actor=EventActor(
                user_id=event.actor_user_id,
                api_key_id=event.actor_api_key_id,
                client_id=event.actor_client_id,
                impersonator_id=event.impersonator_id,
                partner_org_id=event.partner_org_id,
                request_id=event.request_id,
            ),
            data=EventData(target=target, details=event.details),
        )


class EventPage(BaseModel):
    items: list[EventOut]
    next_after: str | None = Field(
        description="The `after` of the next request: the last event listed (or the `after` given, when none "
        "was); null only when the feed is empty."
    )
    has_more: bool = Field(description="Whether more events were waiting beyond this page when it was read.")
