from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenantry.core.roles.models import Role
from tenantry.db.base import Base, id_column, utcnow

api_key_roles = Table(
    "api_key_roles",
    Base.metadata,
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class ApiKey(Base):
    """An organization-bound credential. Only a hash of the key is kept; ``lookup`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lookup: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(24), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    roles: Mapped[list[Role]] = relationship(secondary=api_key_roles, lazy="raise", order_by=Role.name)
