from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow

EMAIL = "email"
PASSWORD_RESET_REQUEST = "password_reset_request"
EMAIL_CHANGED_NOTICE = "email_changed_notice"

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


class OutboxMessage(Base):
    """Something to deliver (an email now, webhooks later), written in the transaction that caused it.

    ``id`` is the idempotency key: an email carries it as its Message-ID, and a message recorded as
    ``sent`` is never delivered again. ``locked_until`` is the lease of the worker delivering it; a
    worker that dies leaves the lease to expire and the message to the next one. The payload (which
    may hold a one-time link) is cleared once the message is sent or given up.

    ``webhook_endpoint_id`` is the endpoint a webhook message goes to (None for the emails and jobs): the
    worker's lanes claim by it. The two indexes hold the pending messages of each lane in the order they fall
    due, so that a lane's poll reads only its own messages: the emails and jobs (no endpoint) or one endpoint's
    webhooks, and the walk over the endpoints with messages pending (``..._endpoint_due``); any webhook due
    (``..._kind_due``). With the lane's conditions outside the index, a poll read every due message of the
    other lane, or of the busy endpoints, before it found its own (migration 0027).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_endpoint_due", "status", "webhook_endpoint_id", "next_attempt_at"),
        Index("ix_outbox_messages_kind_due", "status", "kind", "next_attempt_at"),
    )

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str | None] = mapped_column(String(24), default=None)
    webhook_endpoint_id: Mapped[str | None] = mapped_column(String(24), default=None)
    recipient: Mapped[str | None] = mapped_column(String(320), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
