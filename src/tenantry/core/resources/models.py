from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column

ENVIRONMENT = "environment"
BOT = "bot"


class Resource(Timestamped, Base):
    """Something an organization owns that role grants can be scoped to (eva's environments and bots).

    Resources form a tree inside one organization: a bot belongs to an environment.
    """

    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("org_id", "external_id"),
        Index("ix_resources_org_id_id", "org_id", "id"),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    # No ON DELETE action: a resource with children is refused by the service, and a whole tree can
    # still be deleted in one statement (checked at its end).
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("resources.id"), default=None, index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# A role granted to a member on one resource (and, through the tree, on what lies beneath it). Kept apart
# from ``membership_roles`` (the organization-wide grants), so no organization-wide query sees them.
membership_resource_roles = Table(
    "membership_resource_roles",
    Base.metadata,
    Column("membership_id", ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True, index=True),
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True, index=True),
)
