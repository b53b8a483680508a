from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"
EMAIL_VERIFICATION = "email_verification"
MAGIC_LINK = "magic_link"
PASSWORD_CHANGE = "password_change"
MEMBERSHIP_CONSENT = "membership_consent"
FACTOR_ADDED = "factor_added"
"""The link of the notice of a second factor added by a session of one factor (``core.mfa.notice``)."""
OUTLIVE_NEW_PASSWORD = frozenset({FACTOR_ADDED})
"""Purposes whose token a new password or "sign out everywhere" does not end: whoever knows the password (and
added the factor) must not be able to void the owner's way out."""


class OneTimeToken(Base):
    """A secret that does one thing once (set a first password, reset one, verify an address, sign in).

    Only its SHA-256 is kept. ``email`` is the address a mailed token was sent to: the token is void once
    the account's address differs. ``org_id`` is the organization the token was issued for (its name in
    the mail, its policy).
    """

    __tablename__ = "one_time_tokens"
    __table_args__ = (Index("ix_one_time_tokens_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[str] = id_column()
    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
