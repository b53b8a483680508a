from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column, in_text, partial_index, utcnow

ORG_ACTIVE = "active"
ORG_DELETED = "deleted"
MFA_REQUIRED = "mfa_required"
"""The key of ``settings`` that makes the members sign in with a second factor."""
DEFAULT_LANGUAGE = "default_language"
"""Settings key: the language of the org's pages and emails when neither the user nor the browser names one."""
SCIM_SEND_INVITATIONS = "scim_send_invitations"
"""Settings key: users provisioned over SCIM without a password are mailed an invitation."""


class Organization(Timestamped, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        # A deleted organization frees its slug.
        partial_index("uq_organizations_slug_live", "slug", where="status != 'deleted'", unique=True),
    )

    id: Mapped[str] = id_column()
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default=ORG_ACTIVE)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class OrgBranding(Base):
    """How an organization's hosted pages and emails look: its name as shown, colour, logo, contact, sender.

    The logo is kept here (a small PNG, JPEG or WebP, checked by its magic bytes) and served by Tenantry, so
    the pages' Content-Security-Policy needs no other origin."""

    __tablename__ = "org_branding"

    org_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    primary_color: Mapped[str | None] = mapped_column(String(7), default=None)
    support_email: Mapped[str | None] = mapped_column(String(320), default=None)
    email_from_name: Mapped[str | None] = mapped_column(String(100), default=None)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(32), default=None)
    logo_etag: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def live_org(org: Any = Organization) -> ColumnElement[bool]:
    """``org`` (``Organization`` or an alias of it) is not deleted: the condition of the partial index over live
    slugs, with the status written into the text as it writes it (``db.base.in_text``)."""
    return org.status != in_text(ORG_DELETED)  # type: ignore[no-any-return]
