from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenantry.core.roles.models import Role
from tenantry.db.base import Base, Timestamped, id_column

MEMBERSHIP_ACTIVE = "active"
MEMBERSHIP_DISABLED = "disabled"
MEMBERSHIP_INVITED = "invited"

membership_roles = Table(
    "membership_roles",
    Base.metadata,
    Column("membership_id", ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Membership(Timestamped, Base):
    """A user's place in an organization: its status and the roles granted there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MEMBERSHIP_ACTIVE)
    roles: Mapped[list[Role]] = relationship(secondary=membership_roles, lazy="raise", order_by=Role.name)
