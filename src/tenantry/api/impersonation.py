"""Impersonation of an organization's users (see auth.impersonation for the rules)."""

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from tenantry.api.errors import problems
from tenantry.api.users import target_user
from tenantry.auth.impersonation import ImpersonationToken, impersonate
from tenantry.auth.policy import Policy, Target
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.headers import NO_STORE
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/orgs/{org}/users", tags=["users"], route_class=UnitOfWorkRoute)


@router.post("/{user}/impersonate", response_model=ImpersonationToken, responses=problems(401, 403, 404, 409))
async def impersonate_user(
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(target_user(Policy("users:impersonate", impersonation=False, users_only=True))),
) -> JSONResponse:
    """Get a short-lived token acting as this user here (no refresh token; never for someone above you)."""
    access = target.access
    token = await impersonate(
        session, runtime, access.actor, access.org, target.member, impersonator_session_id=access.principal.session_id
    )
    return JSONResponse(token.model_dump(), headers=NO_STORE)
