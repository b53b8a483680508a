"""Organizations."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import OrgAccess, Policy, caller, org_member
from tenantry.auth.principal import Principal, current_principal
from tenantry.core.actor import Actor
from tenantry.core.orgs import branding, service
from tenantry.core.orgs.models import Organization
from tenantry.core.orgs.schemas import OrgCreate, OrgOut, OrgPage, OrgUpdate
from tenantry.core.users import service as users
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/orgs", tags=["organizations"], route_class=UnitOfWorkRoute)
OrgUpdater = Annotated[OrgAccess, Depends(org_member(Policy("orgs:update", impersonation=False)))]


@router.post("", response_model=OrgOut, status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 409, 422))
async def create_org(
    payload: OrgCreate,
    session: DbSession,
    actor: Actor = Depends(caller(Policy(platform_admin=True, impersonation=False))),
) -> OrgOut:
    """Create an organization (platform admins); the creator becomes its owner."""
    owner = await users.get_live(session, actor.user_id) if actor.user_id else None
    org = await service.create(session, actor, payload, owner)
    return OrgOut.model_validate(org)


@router.get("", response_model=OrgPage, responses=problems(401, 422))
async def list_orgs(
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = Depends(current_principal),
    _: Actor = Depends(caller(Policy())),
) -> OrgPage:
    """The organizations the caller belongs to (every organization, for platform admins)."""
    after = decode_cursor(cursor)
    bound_to = principal.api_key.org_id if principal.api_key is not None else principal.org_id
    member_id = None
    if bound_to is None:
        assert principal.user is not None  # (an API key is always bound to its organization)
        member_id = None if principal.platform_admin else principal.user.id
    found = (
        []  # an application's token issued for no organization lists none
        if principal.reaches_no_org
        else await service.visible_page(session, bound_to=bound_to, member_id=member_id, after=after, limit=limit + 1)
    )
    next_after = found[limit - 1].id if len(found) > limit else None
    return OrgPage(items=[OrgOut.model_validate(org) for org in found[:limit]], next_cursor=encode_cursor(next_after))


@router.get("/{org}", response_model=OrgOut, responses=problems(401, 403, 404))
async def get_org(
    session: DbSession, access: OrgAccess = Depends(org_member(Policy("orgs:read", partner=True)))
) -> OrgOut:
    """One organization, by id or slug, with its branding."""
    return await _with_branding(session, access.org)


async def _with_branding(session: AsyncSession, org: Organization) -> OrgOut:
    found = OrgOut.model_validate(org)
    found.branding = await branding.out(session, org)
    return found


@router.patch("/{org}", response_model=OrgOut, responses=problems(401, 403, 404, 409, 422))
async def update_org(payload: OrgUpdate, access: OrgUpdater, session: DbSession) -> OrgOut:
    """Change an organization's name, slug, description, password policy, settings, default language or branding."""
    org = await service.update_org(session, access.actor, access.org, payload)
    return await _with_branding(session, org)


@router.delete("/{org}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404))
async def delete_org(
    session: DbSession, access: OrgAccess = Depends(org_member(Policy("orgs:delete", impersonation=False)))
) -> None:
    """Delete an organization: its memberships and keys go; accounts left in no organization are deleted."""
    await service.delete(session, access.actor, access.org)


@router.put("/{org}/branding/logo", response_model=OrgOut, responses=problems(401, 403, 404, 413, 422))
async def upload_logo(request: Request, access: OrgUpdater, session: DbSession) -> OrgOut:
    """Upload the org's logo: the raw bytes of a PNG, JPEG or WebP image (no SVG: it can carry script), with its
    `Content-Type`, at most 256 KiB. Tenantry stores it and serves it itself at `branding.logo_url`."""
    data = await request.body()
    await branding.set_logo(session, access.actor, access.org, data, request.headers.get("content-type", ""))
    return await _with_branding(session, access.org)


@router.delete("/{org}/branding/logo", response_model=OrgOut, responses=problems(401, 403, 404))
async def delete_logo(access: OrgUpdater, session: DbSession) -> OrgOut:
    """Remove the org's logo; its pages and emails show its name alone."""
    await branding.remove_logo(session, access.actor, access.org)
    return await _with_branding(session, access.org)
