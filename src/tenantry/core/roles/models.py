from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column, utcnow
from tenantry.db.versioning import Versioned


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


class AppPermission(Base):
    """A permission of the application (``invoices:approve``), registered by a platform admin: custom roles
    of any organization may hold it beside Tenantry's own, and tokens carry it."""

    __tablename__ = "app_permissions"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgRoleState(Versioned, Timestamped, Base):
    """A role as one organization sees it: the identity provider's id for it (SCIM Group ``externalId``)
    and a version that changes whenever the role or the set of members holding it there changes.

    Built-in roles are shared by every organization, so this per-organization row carries what differs.
    A role without a row has version 1 and no external id.
    """

    __tablename__ = "org_role_states"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
