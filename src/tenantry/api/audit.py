"""The audit log of an organization."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import READ_AUDIT, OrgAccess, org_member
from tenantry.core.audit import service as audit
from tenantry.core.audit.schemas import AuditEventOut, AuditEventPage
from tenantry.core.fields import StorableStr
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/orgs/{org}/audit-events", tags=["audit"], route_class=UnitOfWorkRoute)

ActionFilter = Annotated[StorableStr | None, Query(max_length=64, description="Exact action, e.g. `user.created`.")]
ActorFilter = Annotated[
    StorableStr | None,
    Query(max_length=64, description="Id of a user who acted or impersonated, of an API key or of an application."),
]
TargetFilter = Annotated[StorableStr | None, Query(max_length=64, description="Id of the thing acted on.")]
SinceFilter = Annotated[
    datetime | None, Query(description="Events at or after this time (ISO 8601; UTC when no offset is given).")
]
Order = Annotated[Literal["asc", "desc"], Query(description="`asc`: oldest first (the default); `desc`: newest first.")]


@router.get("", response_model=AuditEventPage, responses=problems(401, 403, 404, 422))
async def list_audit_events(
    session: DbSession,
    access: OrgAccess = Depends(org_member(READ_AUDIT)),
    action: ActionFilter = None,
    actor: ActorFilter = None,
    target: TargetFilter = None,
    since: SinceFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> AuditEventPage:
    """The organization's audit events, oldest (or newest) first, filtered by action, actor, target and time."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    where = audit.AuditFilter(action=action, actor=actor, target=target, since=since)
    events = await audit.page(
        session, access.org.id, where, after=decode_cursor(cursor), limit=limit + 1, newest_first=order == "desc"
    )
    after = events[limit - 1].id if len(events) > limit else None
    return AuditEventPage(
        items=[AuditEventOut.model_validate(event) for event in events[:limit]], next_cursor=encode_cursor(after)
    )
