"""The token exchange: one grant dispatch behind every token endpoint (the native API's and telm's).

An endpoint parses its own wire format into a ``Grant`` and words the errors its own way; which grant
does what — a password, a refresh token, a second factor answering ``mfa_required`` — is decided here.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import second_factor
from tenantry.auth.login import TokenResponse, password_grant, refresh_grant, tokens_for
from tenantry.auth.second_factor import METHOD_OF_GRANT, OTP_GRANT, RECOVERY_CODE_GRANT
from tenantry.core.actor import Actor
from tenantry.errors import OAuthError
from tenantry.requestctx import request_id
from tenantry.runtime import Runtime

PASSWORD = "password"
REFRESH_TOKEN = "refresh_token"
GRANT_TYPES = (PASSWORD, REFRESH_TOKEN, OTP_GRANT, RECOVERY_CODE_GRANT)


@dataclass(frozen=True)
class Grant:
    """A token request's fields (empty where the request did not send one)."""

    grant_type: str
    username: str = ""
    password: str = ""
    refresh_token: str = ""
    mfa_token: str = ""
    otp: str = ""
    recovery_code: str = ""


async def exchange(session: AsyncSession, runtime: Runtime, grant: Grant, client_ip: str | None) -> TokenResponse:
    """Tokens for ``grant``; a refused one raises ``OAuthError`` (``invalid_grant``, ``mfa_required``, …)."""
    if grant.grant_type == PASSWORD:
        return await password_grant(session, runtime, grant.username, grant.password, client_ip)
    if grant.grant_type == REFRESH_TOKEN:
        return await refresh_grant(session, runtime, grant.refresh_token)
    if grant.grant_type in METHOD_OF_GRANT:
        answer = grant.otp if grant.grant_type == OTP_GRANT else grant.recovery_code
        actor = Actor(request_id=request_id.get(), client_ip=client_ip)
        passed = await second_factor.answer(session, runtime, actor, grant.grant_type, grant.mfa_token, answer)
        return await tokens_for(session, runtime, passed.user, passed.amr)
    raise OAuthError("unsupported_grant_type", f"grant_type must be one of: {', '.join(GRANT_TYPES)}")
