from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenantry.core.roles.models import Role
from tenantry.db.base import Base, Timestamped, id_column
from tenantry.db.versioning import Versioned

MEMBERSHIP_ACTIVE = "active"
MEMBERSHIP_DISABLED = "disabled"
MEMBERSHIP_INVITED = "invited"

membership_roles = Table(
    "membership_roles",
    Base.metadata,
    Column("membership_id", ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Membership(Versioned, Timestamped, Base):
    """A user's place in an organization: its status, the roles granted there and what it stores about them.

    ``attributes``, ``external_id`` and ``profile`` are the organization's own data about the member (its
    attributes, the SCIM ``externalId`` and the attributes the account has no field for); no other
    organization sees or changes them. ``consent_pending``: an organization attached an account that
    already existed, whose owner has not accepted yet (status ``invited``); such a membership grants
    nothing and shows the organization only the account's email. ``version`` changes with every change
    to the row or to its roles.
    """

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id"),
        Index("ix_memberships_org_id_external_id", "org_id", "external_id"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MEMBERSHIP_ACTIVE)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_pending: Mapped[bool] = mapped_column(default=False)
    roles: Mapped[list[Role]] = relationship(secondary=membership_roles, lazy="raise", order_by=Role.name)
