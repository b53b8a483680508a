"""The audit log: newest first, filtered by action, actor, target and date, a page at a time."""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from tenantry.auth.policy import READ_AUDIT
from tenantry.console.pages import Console, ConsoleRoute, console_access
from tenantry.core.audit import service as audit
from tenantry.db.ids import is_id

router = APIRouter(prefix="/console/{org}/audit", route_class=ConsoleRoute, include_in_schema=False)
PAGE_SIZE = 50
Filter = Annotated[str, Query(max_length=64)]


def _day(value: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return None


@router.get("")
async def audit_page(
    console: Console = Depends(console_access(READ_AUDIT)),
    action: Filter = "",
    actor: Filter = "",
    target: Filter = "",
    since: Annotated[str, Query(max_length=10)] = "",
    after: Annotated[str, Query(max_length=24)] = "",
) -> Response:
    """The organization's audit events, newest first; filters by action, actor, target and day."""
    filters = {"action": action.strip(), "actor": actor.strip(), "target": target.strip(), "since": since}
    where = audit.AuditFilter(
        action=filters["action"] or None,
        actor=filters["actor"] or None,
        target=filters["target"] or None,
        since=_day(since),
    )
    events = await audit.page(
        console.session,
        console.org.id,
        where,
        after=after if is_id(after) else None,
        limit=PAGE_SIZE + 1,
        newest_first=True,
    )
    page = {
        "events": events[:PAGE_SIZE],
        "next_after": events[PAGE_SIZE - 1].id if len(events) > PAGE_SIZE else None,
        "filters": filters,
        "bad_since": bool(since) and _day(since) is None,
    }
    return console.render("audit.html", page)
