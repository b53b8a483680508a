"""Token introspection (RFC 7662), for confidential clients: whether a token is active, and what it is.

Any client's access tokens answer (resource servers ask about tokens they were shown): a user's while its
account and session stand and, for a token of one organization, while the user is still an active member
there; a machine's (client_credentials) while its client still may issue it. Refresh
tokens answer only to the client they were issued to. Every active answer says ``iss``, ``aud``, ``sub``,
``client_id``, ``scope``, ``iat``, ``exp`` and ``token_type`` (where the token has them); anything else,
including a token of another issuer, is ``{"active": false}``.
"""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import access_tokens
from tenantry.auth.access_tokens import AccessClaims
from tenantry.auth.brute_force import rate_limited
from tenantry.auth.principal import user_principal
from tenantry.core.clients import grants
from tenantry.core.clients import service as clients
from tenantry.core.clients.models import CONFIDENTIAL, OAuthClient
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users.models import USER_ACTIVE
from tenantry.db.base import utcnow
from tenantry.errors import OAuthError, Unauthenticated
from tenantry.oidc import client_auth
from tenantry.oidc.errors import OidcRoute
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.web.headers import NO_STORE

router = APIRouter(prefix="/oidc", route_class=OidcRoute, include_in_schema=False)
INACTIVE: dict[str, Any] = {"active": False}
REFRESH_TOKEN_TYPE = "refresh_token"


def _present(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _access_answer(runtime: Runtime, claims: AccessClaims) -> dict[str, Any]:
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "iss": runtime.settings.access_token_issuer,
        "aud": runtime.settings.jwt_audience,
        "sub": claims.subject,
        "client_id": claims.client_id,
        "scope": claims.scope,
        "iat": int(claims.issued_at),
        "exp": claims.expires_at,
        "jti": claims.token_id,
        "sid": claims.session_id,
        "org_id": claims.org_id,
    }
    if claims.impersonator_id is not None:
        body["act"] = {"sub": claims.impersonator_id}
    return _present(body)


async def _access_token(session: AsyncSession, runtime: Runtime, token: str) -> dict[str, Any] | None:
    """The answer for an access token this provider signed; None when ``token`` is not one (or no longer
    verifies: expired, another issuer or audience, an unknown key)."""
    try:
        claims = await access_tokens.verify(runtime.keyring, runtime.settings, token)
    except Unauthenticated:
        return None
    if claims.client_id is not None and claims.client_id == claims.subject:  # a machine token
        machine = await clients.machine(session, claims.client_id, claims.org_id)
        return _access_answer(runtime, claims) if machine is not None else INACTIVE
    try:
        principal = await user_principal(session, runtime, token)
    except Unauthenticated:
        return INACTIVE
    org_id = claims.org_id if principal.impersonator_id is None else None  # impersonation: checked above
    if org_id is not None and not await grants.still_member(session, org_id, claims.subject):
        return INACTIVE  # every org-scoped route refuses it: removed or disabled there, or the org is gone
    return _access_answer(runtime, claims)


async def _refresh_token(session: AsyncSession, runtime: Runtime, client: OAuthClient, token: str) -> dict[str, Any]:
    found = await refresh_tokens.find(session, token)
    if found is None or found.used_at or found.revoked_at or found.expires_at <= utcnow():
        return INACTIVE
    grant = await grants.find(session, found.family_id)
    if grant is None or grant.client_id != client.id:
        return INACTIVE
    user, _ = await refresh_tokens.live_user_and_session(session, found.user_id, None)
    if user is None or user.status != USER_ACTIVE:
        return INACTIVE
    if user.tokens_valid_after is not None and found.created_at < user.tokens_valid_after:
        return INACTIVE  # every session of the user ended after it was issued
    if grant.org_id is not None and not await grants.still_member(session, grant.org_id, user.id):
        return INACTIVE  # the token endpoint would refuse it
    return _present(
        {
            "active": True,
            "token_type": REFRESH_TOKEN_TYPE,
            "iss": runtime.settings.oidc_issuer,
            "aud": runtime.settings.oidc_issuer,  # a refresh token is for this provider's token endpoint only
            "sub": found.user_id,
            "client_id": client.id,
            "scope": grant.scope,
            "iat": int(found.created_at.timestamp()),
            "exp": int(found.expires_at.timestamp()),
            "sid": found.family_id,
            "org_id": grant.org_id,
        }
    )


@router.post("/introspect", dependencies=[Depends(rate_limited("oidc-token"))])
async def introspect(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> JSONResponse:
    """Whether a token is active, and what it is (RFC 7662; confidential clients only)."""
    fields = await client_auth.read_form(request)
    client = await client_auth.authenticate(session, request, fields)
    if client.type != CONFIDENTIAL:
        raise OAuthError("invalid_client", "only confidential clients may introspect tokens", status=401)
    token = fields.get("token")
    if not token:
        raise OAuthError("invalid_request", "missing parameter(s): token")
    answer = await _access_token(session, runtime, token)
    if answer is None:
        answer = await _refresh_token(session, runtime, client, token)
    return JSONResponse(answer, headers=NO_STORE)
