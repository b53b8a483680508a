from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column

ORG_ACTIVE = "active"
ORG_DELETED = "deleted"
MFA_REQUIRED = "mfa_required"
"""The key of ``settings`` that makes the members sign in with a second factor."""
SCIM_SEND_INVITATIONS = "scim_send_invitations"
"""Settings key: users provisioned over SCIM without a password are mailed an invitation."""


class Organization(Timestamped, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        # A deleted organization frees its slug.
        Index(
            "uq_organizations_slug_live",
            "slug",
            unique=True,
            sqlite_where=text("status != 'deleted'"),
            postgresql_where=text("status != 'deleted'"),
        ),
    )

    id: Mapped[str] = id_column()
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default=ORG_ACTIVE)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
