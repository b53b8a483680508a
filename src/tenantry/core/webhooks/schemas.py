from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from tenantry.core.events.catalog import EVENT_TYPES
from tenantry.core.fields import StorableStr

EventTypes = Annotated[
    list[str],
    Field(
        min_length=1,
        max_length=100,
        description='Event types to receive (see docs/events.md), or `["*"]` for all.',
        examples=[["user.created", "user.deleted"]],
    ),
]


def _known(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = sorted(set(types) - EVENT_TYPES - {"*"})
    if unknown:
        raise ValueError(f"not an event type: {', '.join(unknown)}")
    return sorted(set(types))


class WebhookCreate(BaseModel):
    url: StorableStr = Field(max_length=2048, examples=["https://app.example.com/hooks/tenantry"])
    events: EventTypes
    description: StorableStr = Field(default="", max_length=500)
    enabled: bool = True

    _check_events = field_validator("events")(_known)


class WebhookUpdate(BaseModel):
    url: StorableStr | None = Field(default=None, max_length=2048)
    events: EventTypes | None = None
    description: StorableStr | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="`true` re-enables an endpoint disabled for failing.")

    _check_events = field_validator("events")(_known)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str | None = Field(description="null for a platform webhook (every organization's events).")
    url: str
    events: list[str] = Field(validation_alias=AliasChoices("event_types", "events"))
    description: str
    enabled: bool
    disabled_reason: str | None = Field(description="Why Tenantry disabled it (failing for days), if it did.")
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_` + base64), shown only in this answer.", examples=["whsec_…"]
    )


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    event_id: str = Field(description="The event delivered, also the `webhook-id` header.")
    status: str = Field(examples=["succeeded", "failed"])
    response_status: int | None = Field(description="The endpoint's HTTP status, when it answered.")
    latency_ms: int | None
    error: str | None = Field(description="What went wrong (timeout, refused address, non-2xx answer).")
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
