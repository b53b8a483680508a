from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow

TOTP = "totp"

VERIFY = "verify"
"""A challenge that a second factor answers."""
ENROLL = "enroll"
"""A challenge that allows only enrolling a first factor (an organization requires one)."""


class MfaFactor(Base):
    """A second factor of an account. A TOTP factor keeps its secret sealed (``core.secretbox``) and the
    last time step a code was accepted for, so that no code works twice; it counts once confirmed."""

    __tablename__ = "mfa_factors"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    secret_sealed: Mapped[str] = mapped_column(Text)
    last_used_step: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)


class RecoveryCode(Base):
    """One single-use recovery code, kept as a SHA-256 (the codes carry 60 random bits)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class MfaChallenge(Base):
    """What a sign-in that proved its first factor holds until the second: the ``mfa_token`` (kept as a
    SHA-256), the methods already used (``amr``) and the wrong answers so far."""

    __tablename__ = "mfa_challenges"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    amr: Mapped[list[str]] = mapped_column(default=list)
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None] = mapped_column(default=None)
