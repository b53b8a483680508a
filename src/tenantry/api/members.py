"""Adding existing accounts to an organization."""

from fastapi import APIRouter, Depends, status

from tenantry.api.errors import problems
from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.memberships import joining
from tenantry.core.users.schemas import MemberAdd, UserOut
from tenantry.core.users.service import member_out
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/orgs/{org}/members", tags=["users"], route_class=UnitOfWorkRoute)


@router.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 404, 409, 422)
)
async def add_member(
    payload: MemberAdd,
    session: DbSession,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_member(Policy("users:create", impersonation=False, partner=True))),
) -> UserOut:
    """Invite an account (by id or email) to the organization with the given roles; it joins once it accepts."""
    return member_out(await joining.add(session, access.actor, access.org, payload, runtime.flows))
