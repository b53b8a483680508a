from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, id_column, utcnow


class BrowserSession(Base):
    """A signed-in browser on the hosted pages; the cookie holds the secret, this row only its hash."""

    __tablename__ = "browser_sessions"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    amr: Mapped[list[str] | None] = mapped_column(default=None)
    """How the browser signed in (RFC 8176), for the OpenID provider's tokens; None: before it was kept (a password)."""
