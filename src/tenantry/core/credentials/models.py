from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base


class LoginFailure(Base):
    """Failed sign-ins under one login name (known account or not), and the lockout they caused.

    Keyed by a digest of the lower-cased login name, so that a wrong password for a known account and any
    password for an unknown one do the same database work (no timing oracle).
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_last_failure_at", "last_failure_at"),)

    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
