"""The event feeds: what changed, oldest first, for applications that poll (docs/events.md)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tenantry.api.errors import problems
from tenantry.api.pagination import Limit
from tenantry.auth.policy import OrgAccess, Policy, caller, org_member
from tenantry.core.actor import Actor
from tenantry.core.events import service
from tenantry.core.events.schemas import EventPage
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["events"], route_class=UnitOfWorkRoute)

TypeFilter = Annotated[
    list[str] | None,
    Query(alias="type", max_length=40, description="Event types to list (repeat for several); all when omitted."),
]
After = Annotated[
    str | None,
    Query(
        pattern="^[0-9a-f]{24}$",
        description="Id of the last event already read (`next_after` of the previous page); omit for the oldest.",
    ),
]


@router.get("/orgs/{org}/events", response_model=EventPage, responses=problems(401, 403, 404, 422))
async def org_events(
    session: DbSession,
    access: OrgAccess = Depends(org_member(Policy("events:read"))),
    type_: TypeFilter = None,
    after: After = None,
    limit: Limit = 50,
) -> EventPage:
    """The organization's events, oldest first, after the event `after`."""
    return await service.feed(session, org_id=access.org.id, types=type_ or [], after=after, limit=limit)


@router.get("/events", response_model=EventPage, responses=problems(401, 403, 422))
async def platform_events(
    session: DbSession,
    _: Actor = Depends(caller(Policy(platform_admin=True))),
    type_: TypeFilter = None,
    after: After = None,
    limit: Limit = 50,
) -> EventPage:
    """Every organization's events and account-wide ones (platform admins), oldest first, after `after`."""
    return await service.feed(session, org_id=None, types=type_ or [], after=after, limit=limit)
