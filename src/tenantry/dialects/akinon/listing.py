"""List parameters the vendor's way: mongoose sort strings, filters, and mongoose-paginate-v2 arithmetic."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.core.memberships.directory import MemberCriteria, SortField, SortKey
from tenantry.dialects.akinon.schemas import UserDoc, UserPage

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MONGO_ID = re.compile(r"^[0-9a-fA-F]{24}$")

SORTABLE: dict[str, SortField] = {
    "_id": "id",
    "username": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "status": "status",
    "language": "locale",
    "region": "region",
    "lastLoginAt": "last_login_at",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
}


def sort_keys(sort: str | None) -> list[SortKey]:
    """``"firstName -createdAt"`` (spaces or commas between fields, ``-`` for descending).

    Fields the vendor's users do not have are ignored, as MongoDB ignores sorting on a field no
    document has; the first mention of a field wins. Ties are broken by id.
    """
    keys: dict[SortField, SortKey] = {}
    for token in re.split(r"[\s,]+", sort or ""):
        field = SORTABLE.get(token.lstrip("+-"))
        if field is not None and field not in keys:
            keys[field] = SortKey(field, descending=token.startswith("-"))
    return list(keys.values())


def member_criteria(username: str | None, status: str | None, role: str | None) -> MemberCriteria | None:
    """The filters as the core's criteria; None when a filter value can match nobody.

    ``status`` is ``1`` (active) or ``0`` (disabled) and ``role`` a role id; any other value is a valid
    filter (the vendor declares both as free strings) that no user matches.
    """
    if status not in (None, "", "0", "1"):
        return None
    if role and not MONGO_ID.fullmatch(role):
        return None
    return MemberCriteria(
        email_contains=username or None,
        disabled=None if not status else status == "0",
        role_id=role.lower() if role else None,
    )


@dataclass(frozen=True)
class PageRequest:
    """``page`` below 1 is 1; ``limit`` is capped at MAX_LIMIT, and 0 or less asks for totals only."""

    page: int
    limit: int

    @classmethod
    def of(cls, page: int | None, limit: int | None) -> "PageRequest":
        wanted = DEFAULT_LIMIT if limit is None else max(0, min(limit, MAX_LIMIT))
        return cls(page=1 if page is None or page < 1 or wanted == 0 else page, limit=wanted)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def answer(self, docs: Sequence[UserDoc], total: int) -> UserPage:
        """The page as mongoose-paginate-v2 reports it (a page past the end has no docs, true totals)."""
        if self.limit == 0:
            return UserPage(
                docs=[], totalDocs=total, limit=0, totalPages=1, page=1, pagingCounter=1,
                hasPrevPage=False, hasNextPage=False, prevPage=None, nextPage=None,
            )  # fmt: skip
        pages = max(1, -(-total // self.limit))
        has_prev, has_next = self.page > 1, self.page < pages
        return UserPage(
            docs=list(docs),
            totalDocs=total,
            limit=self.limit,
            totalPages=pages,
            page=self.page,
            pagingCounter=self.offset + 1,
            hasPrevPage=has_prev,
            hasNextPage=has_next,
            prevPage=self.page - 1 if has_prev else None,
            nextPage=self.page + 1 if has_next else None,
        )
