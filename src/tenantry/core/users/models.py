from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from tenantry.core.users.emailkey import email_key
from tenantry.db.base import Base, Timestamped, id_column, in_text, partial_index
from tenantry.db.versioning import Versioned

USER_ACTIVE = "active"
USER_DISABLED = "disabled"
USER_DELETED = "deleted"


class User(Versioned, Timestamped, Base):
    """One global account; it may belong to many organizations. ``version`` changes with every change to the row."""

    __tablename__ = "users"
    __table_args__ = (
        # One account per email identity (its canonical key) among accounts that are not deleted.
        partial_index("uq_users_email_key_live", "email_key", where="status != 'deleted'", unique=True),
    )

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(320))
    """As the user typed it (validated), shown everywhere; lookups and uniqueness use ``email_key``."""
    email_key: Mapped[str] = mapped_column(String(1024))
    """``emailkey.email_key(email)``, set whenever ``email`` is (migration 0008 backfilled older rows)."""
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    region: Mapped[str | None] = mapped_column(String(2), default=None)
    """ISO 3166-1 alpha-2 country code, upper case."""
    avatar_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The user's own preferences (notification switches and the like); what organizations store about
    the user is on their memberships (``Membership.attributes``)."""
    status: Mapped[str] = mapped_column(String(16), default=USER_ACTIVE)
    email_verified: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    password_change_required: Mapped[bool] = mapped_column(default=False)
    credentials_proven: Mapped[bool] = mapped_column(default=False)
    """True once the account's password was chosen by the proven owner of its address (through a link mailed
    to it: activation, reset, an invitation's join link) and no one else set credentials since; False when an
    organization, a partner, an administrator or an import sets them, or the address changes. Accepting an
    invitation into another organization needs it (``core.memberships.joining``)."""
    platform_admin: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    tokens_valid_after: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @validates("email")
    def _keep_email_key(self, _: str, email: str) -> str:
        self.email_key = email_key(email)
        return email


def live_account(account: Any = User) -> ColumnElement[bool]:
    """``account`` (``User``, an alias of it, or the columns of its table) is not deleted: the condition of the
    partial indexes over live accounts, with the status written into the text as they write it (``db.base.in_text``)."""
    return account.status != in_text(USER_DELETED)  # type: ignore[no-any-return]
