from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column, utcnow

SUCCEEDED = "succeeded"
FAILED = "failed"


class WebhookEndpoint(Timestamped, Base):
    """Where an organization's events (every organization's, for a platform endpoint: ``org_id`` NULL) go.

    ``secret`` and ``previous_secret`` are the signing secrets, encrypted with ``TENANTRY_SECRET_KEY``
    (they must sign, so they cannot be hashed); the previous one signs too until ``previous_expires_at``.
    ``failing_since`` is the first failure since the last success: an endpoint failing for days is disabled.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text, default=None)
    previous_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    failing_since: Mapped[datetime | None] = mapped_column(default=None)


class WebhookDelivery(Base):
    """One attempt to deliver an event to an endpoint, as the endpoint's owner may inspect it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[str] = id_column()
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(default=None)
    latency_ms: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
