"""Signing out: this session, or every session of the calling user."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from tenantry.api.errors import problems
from tenantry.auth.policy import Policy, caller
from tenantry.auth.principal import Principal, current_principal
from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.tokens.service import revoke_family, revoke_sessions
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["auth"], route_class=UnitOfWorkRoute)
OwnSession = Annotated[Actor, Depends(caller(Policy(users_only=True, impersonation=False)))]
EverySession = Annotated[Actor, Depends(caller(Policy(users_only=True, impersonation=False, own_account=True)))]
Caller = Annotated[Principal, Depends(current_principal)]


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403))
async def logout(actor: OwnSession, principal: Caller, session: DbSession) -> None:
    """End this session: its refresh token and the access token presented stop working at once."""
    if principal.session_id is not None:
        await revoke_family(session, principal.session_id)
    record(session, actor, "session.ended", org_id=None, target_type="user", target_id=actor.user_id)


@router.post("/me/sessions/revoke", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403))
async def revoke_all_sessions(actor: EverySession, principal: Caller, session: DbSession) -> None:
    """End every session of yours, this one included: all access and refresh tokens stop working."""
    assert principal.user is not None
    await revoke_sessions(session, principal.user)
    record(session, actor, "sessions.revoked", org_id=None, target_type="user", target_id=actor.user_id)
