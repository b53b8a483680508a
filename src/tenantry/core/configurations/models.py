from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.db.base import Base, Timestamped, id_column, partial_index


class Configuration(Timestamped, Base):
    """A user's JSON settings in an organization, optionally for one resource (eva: per bot)."""

    __tablename__ = "configurations"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id", "resource_id"),
        # NULLs are distinct in a unique constraint: one organization-wide document per user needs its own index.
        partial_index(
            "uq_configurations_org_user_unscoped", "org_id", "user_id", where="resource_id IS NULL", unique=True
        ),
    )

    id: Mapped[str] = id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[str | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), default=None, index=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(default=dict)
