"""The second step of the token endpoint's sign-ins (OAuth 2.0 errors around ``core.mfa.challenges``).

An account with a second factor that signs in with its password gets ``mfa_required`` with an
``mfa_token``, which the grants ``urn:tenantry:params:oauth:grant-type:mfa-otp`` (``otp``) and
``…:mfa-recovery-code`` (``recovery_code``) trade for tokens. An account that must have one and has
none (its organization requires MFA) gets ``mfa_enrollment_required``: its ``mfa_token`` only enrols an
authenticator app (``POST /auth/mfa/totp``, then ``/auth/mfa/totp/confirm``, which answers tokens).
"""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.brute_force import second_factor_counted
from tenantry.core.actor import Actor
from tenantry.core.mfa import challenges, service
from tenantry.core.mfa.challenges import ChallengeDead, Passed, WrongAnswer
from tenantry.core.mfa.models import ENROLL, VERIFY
from tenantry.core.mfa.schemas import MFA, OTP, RECOVERY_CODE
from tenantry.core.mfa.service import Requirement
from tenantry.core.users.models import User
from tenantry.core.users.password_signin import SignInAccount
from tenantry.errors import OAuthError
from tenantry.runtime import Runtime

PASSWORD_AMR = "pwd"
MFA_AMR = MFA
OTP_GRANT = "urn:tenantry:params:oauth:grant-type:mfa-otp"
RECOVERY_CODE_GRANT = "urn:tenantry:params:oauth:grant-type:mfa-recovery-code"
METHOD_OF_GRANT = {OTP_GRANT: OTP, RECOVERY_CODE_GRANT: RECOVERY_CODE}


async def ensure_not_needed(
    session: AsyncSession, runtime: Runtime, user: User, amr: list[str], org_id: str | None = None
) -> None:
    """Raise ``mfa_required`` / ``mfa_enrollment_required`` (with a new ``mfa_token``) when a second factor
    must follow ``amr`` (in a sign-in naming ``org_id``); the challenge is kept although the answer is an error."""
    need = await service.requirement(session, runtime.settings, user)
    if need.kind != "none":
        raise await needed(session, user, need, amr, org_id)


async def needed(
    session: AsyncSession, user: User | SignInAccount, need: Requirement, amr: list[str], org_id: str | None = None
) -> OAuthError:
    """The ``mfa_required`` / ``mfa_enrollment_required`` answer to a sign-in of ``user`` that ``need``s a
    second factor, with its new challenge's ``mfa_token`` (kept although the answer is an error)."""
    token = await challenges.begin(session, user, VERIFY if need.kind == "verify" else ENROLL, amr, org_id)
    extra: dict[str, str | int | list[str]] = {"mfa_token": token, "mfa_token_expires_in": challenges.TTL_SECONDS}
    if need.kind == "verify":
        extra["mfa_methods"] = need.methods
        detail = f"a second factor is required: answer with grant_type {OTP_GRANT} or {RECOVERY_CODE_GRANT}"
        return OAuthError("mfa_required", detail, keep_changes=True, extra=extra)
    detail = "a second factor is required and none is enrolled: enrol an authenticator app with the mfa_token"
    return OAuthError("mfa_enrollment_required", detail, keep_changes=True, extra=extra)


async def answer(
    session: AsyncSession, runtime: Runtime, actor: Actor, grant_type: str, token: str, value: str
) -> Passed:
    """The challenge of ``token`` answered with the code the grant carries; ``invalid_grant`` otherwise."""
    try:
        method = METHOD_OF_GRANT[grant_type]
        checked = partial(challenges.answer, session, runtime.flows, actor, token, method, value)
        return await second_factor_counted(runtime, actor.client_ip, checked)
    except ChallengeDead:
        raise OAuthError("invalid_grant", "the mfa_token is invalid, expired or used up; sign in again") from None
    except WrongAnswer:
        detail = "the code is wrong or already used"
        raise OAuthError("invalid_grant", detail, keep_changes=True) from None


SECOND_STEP_ERRORS = frozenset({"mfa_required", "mfa_enrollment_required"})


def without_second_step(error: OAuthError) -> OAuthError:
    """What a sign-in with no second step (a vendor dialect's token endpoint) answers instead of ``error``.

    Nothing of the refused sign-in is kept: the challenge that was started goes with the transaction.
    """
    if error.error not in SECOND_STEP_ERRORS:
        return error
    detail = (
        "this account signs in with a second factor, which this endpoint cannot ask for: "
        "sign in at /api/v1/auth/token or on the hosted sign-in page"
    )
    return OAuthError("invalid_grant", detail)
