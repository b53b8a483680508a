from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenantry.core.roles.models import Role
from tenantry.db.base import Base, id_column, utcnow


class PartnerLink(Base):
    """A customer organization lets the members of a partner organization act in it with one role."""

    __tablename__ = "partner_links"
    __table_args__ = (UniqueConstraint("customer_org_id", "partner_org_id"),)

    id: Mapped[str] = id_column()
    customer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    partner_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(24), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    role: Mapped[Role] = relationship(lazy="raise")
