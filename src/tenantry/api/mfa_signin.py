"""Enrolling a first authenticator app in the middle of a sign-in (``mfa_enrollment_required``).

Public by nature, like the token endpoint: the ``mfa_token`` in the body is the credential, and it only
allows this.
"""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tenantry.api.account_flows import anonymous_actor
from tenantry.api.errors import problems
from tenantry.auth.brute_force import rate_limited
from tenantry.auth.login import TokenResponse, tokens_for
from tenantry.core.mfa import challenges
from tenantry.core.mfa.schemas import TotpEnrolmentOut
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.headers import NO_STORE
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/auth/mfa", tags=["auth"], route_class=UnitOfWorkRoute)


class EnrolmentStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: str = Field(max_length=200, description="From the token endpoint's `mfa_enrollment_required`.")


class EnrolmentConfirm(EnrolmentStart):
    code: str = Field(max_length=16, description="The 6-digit code the authenticator app shows now.")


class EnrolledTokens(TokenResponse):
    recovery_codes: list[str] = Field(description="Ten single-use codes, shown once.")


@router.post("/totp", response_model=TotpEnrolmentOut, responses=problems(409, 422, 429))
async def start_enrolment(
    payload: EnrolmentStart, session: DbSession, runtime: AppRuntime, _: None = Depends(rate_limited("token"))
) -> JSONResponse:
    """With an enrolment `mfa_token`: the secret of a new authenticator app (public: the token is the credential)."""
    enrolment = await challenges.start_enrolment(session, runtime.flows, payload.mfa_token)
    return JSONResponse(enrolment.model_dump(), headers=NO_STORE)


@router.post("/totp/confirm", response_model=EnrolledTokens, responses=problems(400, 409, 422, 429))
async def confirm_enrolment(
    payload: EnrolmentConfirm,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    _: None = Depends(rate_limited("token")),
) -> JSONResponse:
    """With an enrolment `mfa_token`: confirm the app with its code; the answer is tokens and recovery codes."""
    passed, codes = await challenges.finish_enrolment(
        session, runtime.flows, anonymous_actor(request), payload.mfa_token, payload.code
    )
    tokens = await tokens_for(session, runtime, passed.user, passed.amr)
    body = EnrolledTokens(**tokens.model_dump(), recovery_codes=codes)
    return JSONResponse(body.model_dump(), headers=NO_STORE)
