from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow


class AuditEvent(Base):
    """Who did what to which thing, on whose behalf; ``details`` never holds a secret."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_id_id", "org_id", "id"),
        Index("ix_audit_events_org_id_created_at_id", "org_id", "created_at", "id"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(String(24), default=None)
    action: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[str | None] = mapped_column(String(24), default=None)
    actor_api_key_id: Mapped[str | None] = mapped_column(String(24), default=None)
    impersonator_id: Mapped[str | None] = mapped_column(String(24), default=None)
    partner_org_id: Mapped[str | None] = mapped_column(String(24), default=None)
    target_type: Mapped[str | None] = mapped_column(String(32), default=None)
    target_id: Mapped[str | None] = mapped_column(String(24), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
