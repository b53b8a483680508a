from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.core.events.catalog import event_type_for
from tenantry.db.base import Base, id_column, partial_index, utcnow


def _event_type(context: DefaultExecutionContext | None) -> str | None:
    """The catalog type of the row's action, also for rows inserted in bulk without the ORM; None when called
    without a statement (the import fills defaults itself and sets ``event_type`` and ``dispatch_pending`` on
    its rows, core/imports/store.py)."""
    if context is None:
        return None
    parameters: dict[str, object] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    action = parameters["action"]
    assert isinstance(action, str)
    return event_type_for(action)


def _dispatch_pending(context: DefaultExecutionContext | None) -> bool | None:
    return True if _event_type(context) is not None else None


class AuditEvent(Base):
    """Who did what to which thing, on whose behalf; ``details`` never holds a secret.

    A row whose action is in the event catalog is also an event (``event_type`` set): the event feeds
    read it, and ``dispatch_pending`` stays true until the worker has handed it to the webhooks
    subscribed to it (then NULL, so the partial index holds only the rows still to dispatch). Dispatching
    also gives it its ``feed_position``, in the order events are dispatched: the feeds list events by it,
    so an event whose transaction committed late is listed after the ones a reader has already passed,
    never behind them (ids and times are taken when the row is written, not when it commits).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_id_id", "org_id", "id"),
        Index("ix_audit_events_org_id_created_at_id", "org_id", "created_at", "id"),
        Index("ix_audit_events_created_at_id", "created_at", "id"),
        Index("ix_audit_events_feed_position", "feed_position", unique=True),
        Index("ix_audit_events_org_id_feed_position", "org_id", "feed_position"),
        partial_index("ix_audit_events_dispatch_pending", "created_at", "id", where="dispatch_pending IS NOT NULL"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(String(24), default=None)
    action: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[str | None] = mapped_column(String(24), default=None)
    actor_api_key_id: Mapped[str | None] = mapped_column(String(24), default=None)
    actor_client_id: Mapped[str | None] = mapped_column(String(24), default=None)
    """The application whose token the user acted with (``Actor.client_id``); None for their own credential."""
    impersonator_id: Mapped[str | None] = mapped_column(String(24), default=None)
    partner_org_id: Mapped[str | None] = mapped_column(String(24), default=None)
    target_type: Mapped[str | None] = mapped_column(String(32), default=None)
    target_id: Mapped[str | None] = mapped_column(String(24), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_type: Mapped[str | None] = mapped_column(String(64), default=_event_type)
    dispatch_pending: Mapped[bool | None] = mapped_column(Boolean, default=_dispatch_pending)
    feed_position: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
