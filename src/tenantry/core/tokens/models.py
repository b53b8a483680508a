from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow


class RefreshToken(Base):
    """An opaque, rotating refresh token, kept hashed. Tokens rotated from one login share a family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(24), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    amr: Mapped[list[str] | None] = mapped_column(default=None)
    """How the sign-in that started the family proved who it was (RFC 8176 ``amr``); refreshed tokens keep it."""


class SigningKey(Base):
    """A key pair that signs access tokens; ``id`` is the JWT ``kid``. Retired keys only verify."""

    __tablename__ = "signing_keys"

    id: Mapped[str] = id_column()
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
