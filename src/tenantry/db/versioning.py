"""Row versions: a counter every ORM change to a row bumps, in the database, for ETags and conditional writes.

A model that mixes in ``Versioned`` gets a ``version`` column. Before every flush, each such row the
session changed (a column or a relationship collection) is given ``version = version + 1``: the increment
runs in the database, so two transactions changing one row never produce the same version, and
RETURNING (``eager_defaults``) brings the new value back without another query.
"""

from typing import Any

from sqlalchemy import FetchedValue, Integer, event
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column


class Versioned:
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", server_onupdate=FetchedValue())


@event.listens_for(Session, "before_flush")
def _bump_versions(session: Session, _context: UOWTransaction, _instances: object) -> None:
    for instance in session.dirty:
        if isinstance(instance, Versioned) and session.is_modified(instance):
            instance.version = type(instance).version + 1
