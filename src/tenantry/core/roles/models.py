from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column


class Role(Timestamped, Base):
    """A named set of permissions: built-in (``org_id`` NULL, permissions from code) or an org's own."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[str] = id_column()
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), default=None)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    permissions: Mapped[list[str]] = mapped_column(default=list)
    builtin: Mapped[bool] = mapped_column(default=False)
