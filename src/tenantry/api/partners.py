"""Partner organizations: who may act in an organization through another one, and where one may act."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.partners import revocation, service
from tenantry.core.partners.schemas import PartnerGrant, PartnerLinkOut, PartnerLinkPage, PartnerRevocation
from tenantry.runtime import get_session
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/orgs/{org}", tags=["partners"], route_class=UnitOfWorkRoute)
PartnerRef = Annotated[str, Path(description="The partner organization's id or slug", max_length=100)]


@router.get("/partners", response_model=PartnerLinkPage, responses=problems(401, 403, 404, 422))
async def list_partners(
    access: OrgAccess = Depends(org_member(Policy("partners:read"))),
    session: AsyncSession = Depends(get_session),
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PartnerLinkPage:
    """The partner organizations that may act here, with the role each acts with."""
    items, after = await service.page(session, access.org, customers=False, after=decode_cursor(cursor), limit=limit)
    return PartnerLinkPage(items=items, next_cursor=encode_cursor(after))


@router.post(
    "/partners",
    response_model=PartnerLinkOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def grant_partner(
    payload: PartnerGrant,
    access: OrgAccess = Depends(org_member(Policy("partners:write", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> PartnerLinkOut:
    """Let a partner organization's members (those holding partners:act there) act here with a role."""
    return await service.grant(session, access.actor, access.org, payload)


@router.delete("/partners/{partner_org}", response_model=PartnerRevocation, responses=problems(401, 403, 404, 422))
async def revoke_partner(
    partner_org: PartnerRef,
    disable_created: Annotated[
        bool, Query(description="Also disable here the accounts the partner created or added while acting.")
    ] = False,
    access: OrgAccess = Depends(org_member(Policy("partners:write", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> PartnerRevocation:
    """Revoke a partner organization's access and report the accounts it created here (optionally disabled)."""
    return await revocation.revoke(session, access.actor, access.org, partner_org, disable_created=disable_created)


@router.get("/customers", response_model=PartnerLinkPage, responses=problems(401, 403, 404, 422))
async def list_customers(
    access: OrgAccess = Depends(org_member(Policy("partners:act"))),
    session: AsyncSession = Depends(get_session),
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PartnerLinkPage:
    """The organizations that made this one their partner: where its members holding partners:act may act."""
    items, after = await service.page(session, access.org, customers=True, after=decode_cursor(cursor), limit=limit)
    return PartnerLinkPage(items=items, next_cursor=encode_cursor(after))
