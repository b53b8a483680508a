"""The calling user's second factors (authenticator app, recovery codes, passkeys), and an administrator's
reset of a member's, or import of their authenticator app's secret."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from tenantry.api.errors import problems
from tenantry.api.me import load_me
from tenantry.api.users import target_user
from tenantry.auth.policy import Policy, Target, caller
from tenantry.auth.principal import Principal, current_principal
from tenantry.core.actor import Actor
from tenantry.core.mfa import passkeys, service
from tenantry.core.mfa.schemas import (
    MfaStatusOut,
    PasskeyList,
    RecoveryCodesOut,
    TotpConfirm,
    TotpEnrolmentOut,
    TotpImport,
)
from tenantry.core.mfa.service import EnrolmentPlace
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.uncached import HANDS_OUT_A_SECRET

router = APIRouter(tags=["mfa"], route_class=UnitOfWorkRoute)
# Factors are the account's own: never read or changed by an API key, through impersonation, or with an
# application's token for one organization (they guard the account in every organization).
OwnFactors = Annotated[Actor, Depends(caller(Policy(users_only=True, impersonation=False, own_account=True)))]


async def _token_session(principal: Principal = Depends(current_principal)) -> EnrolmentPlace:
    """Where an app is set up over ``/me/mfa``: the caller's token session (one sign-in and its refreshes)."""
    return EnrolmentPlace.tokens(principal.session_id)


TokenSession = Annotated[EnrolmentPlace, Depends(_token_session)]


@router.get("/me/mfa", response_model=MfaStatusOut, responses=problems(401, 403))
async def get_my_mfa(actor: OwnFactors, session: DbSession, runtime: AppRuntime) -> MfaStatusOut:
    """Which second factors you have enrolled, and whether one is required of you."""
    return await service.status(session, runtime.settings, await load_me(session, actor))


@router.post(
    "/me/mfa/totp",
    response_model=TotpEnrolmentOut,
    responses=problems(401, 403, 409),
    dependencies=[HANDS_OUT_A_SECRET],
)
async def start_totp(
    actor: OwnFactors, place: TokenSession, session: DbSession, runtime: AppRuntime
) -> TotpEnrolmentOut:
    """Start enrolling an authenticator app: its secret (a new one each call) until confirmed with a code by a
    token of the same sign-in (this one, or one refreshed from it)."""
    return await service.start_totp(session, runtime.settings, await load_me(session, actor), place)


@router.post(
    "/me/mfa/totp/confirm",
    response_model=RecoveryCodesOut,
    responses=problems(401, 403, 409, 422),
    dependencies=[HANDS_OUT_A_SECRET],
)
async def confirm_totp(
    payload: TotpConfirm, actor: OwnFactors, place: TokenSession, session: DbSession, runtime: AppRuntime
) -> RecoveryCodesOut:
    """Confirm the authenticator app this sign-in started with its current code; the answer holds ten recovery
    codes, shown once. The account's other sessions without a second factor end; this one's refresh tokens mint
    nothing more: sign in again with the app."""
    user = await load_me(session, actor)
    return RecoveryCodesOut(
        recovery_codes=await service.confirm_totp(session, runtime.flows, actor, user, payload.code, place)
    )


@router.delete("/me/mfa/totp", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404))
async def remove_totp(actor: OwnFactors, session: DbSession) -> None:
    """Remove your authenticator app and its recovery codes."""
    await service.remove_totp(session, actor, await load_me(session, actor))


@router.post(
    "/me/mfa/recovery-codes",
    response_model=RecoveryCodesOut,
    responses=problems(401, 403, 409),
    dependencies=[HANDS_OUT_A_SECRET],
)
async def regenerate_recovery_codes(actor: OwnFactors, session: DbSession) -> RecoveryCodesOut:
    """Ten new recovery codes, shown once; the old ones stop working."""
    codes = await service.regenerate_recovery_codes(session, actor, await load_me(session, actor))
    return RecoveryCodesOut(recovery_codes=codes)


@router.get("/me/mfa/passkeys", response_model=PasskeyList, responses=problems(401, 403))
async def list_passkeys(actor: OwnFactors, session: DbSession) -> PasskeyList:
    """Your passkeys (registered on the hosted "My account" page), oldest first (at most 20 per account)."""
    user = await load_me(session, actor)
    return PasskeyList(data=[passkeys.out(row) for row in await passkeys.of_user(session, user.id)])


@router.delete(
    "/me/mfa/passkeys/{passkey_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404)
)
async def remove_passkey(
    passkey_id: Annotated[str, Path(max_length=40)], actor: OwnFactors, session: DbSession
) -> None:
    """Remove one of your passkeys: it no longer signs you in."""
    await passkeys.remove(session, actor, await load_me(session, actor), passkey_id)


@router.put(
    "/orgs/{org}/users/{user}/mfa/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 422),
)
async def import_totp(
    payload: TotpImport,
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(target_user(Policy("users:set_password", impersonation=False, partner=True))),
) -> None:
    """Set a member's authenticator app from the secret it already holds (a migration from another system); it
    replaces an app enrolled before and counts at once. Stored encrypted; audited as `mfa.enrolled`."""
    access = target.access
    await service.import_totp(session, runtime.settings, access.actor, access.org, target.member, payload.secret)


@router.delete(
    "/orgs/{org}/users/{user}/mfa", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409)
)
async def reset_mfa(
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(target_user(Policy("users:mfa_reset", impersonation=False, partner=True))),
) -> None:
    """Remove a member's second factors (they lost them); audited, and the user is mailed."""
    access = target.access
    await service.reset(session, runtime.flows, access.actor, access.org, target.member)
