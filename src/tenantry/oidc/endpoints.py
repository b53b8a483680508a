"""Userinfo (OIDC Core 5.3), revocation (RFC 7009) and RP-initiated logout."""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import access_tokens, oidc_tokens
from tenantry.auth.brute_force import rate_limited
from tenantry.auth.principal import presented_credential, user_principal
from tenantry.core.clients import grants
from tenantry.core.clients import service as clients
from tenantry.core.clients.models import OAuthClient
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users.models import User
from tenantry.errors import MalformedBody, OAuthError, Unauthenticated
from tenantry.i18n import _
from tenantry.oidc import client_auth
from tenantry.oidc.cors import for_client, for_errors, preflight
from tenantry.oidc.errors import InsufficientScope, InvalidBearerRequest, OidcRoute, token_in_body
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.ui.pages import message, redirect
from tenantry.ui.session import close_session, signed_in
from tenantry.web.forms import media_type
from tenantry.web.headers import NO_STORE
from tenantry.web.routing import writes

router = APIRouter(prefix="/oidc", route_class=OidcRoute, include_in_schema=False)


async def _presented_token(request: Request) -> str | None:
    """The access token in the ``Authorization`` header, or in a form-encoded POST body (RFC 6750 2.2)."""
    token = presented_credential(request)
    if request.method != "POST" or media_type(request) != "application/x-www-form-urlencoded":
        return token
    try:
        in_body = (await request.form()).get("access_token")
    except MalformedBody as error:
        raise InvalidBearerRequest(error.detail) from None
    if in_body is None:
        return token
    token_in_body(request)
    if token is not None:
        raise InvalidBearerRequest("send the access token once: in the header or in the body")
    return str(in_body)


async def _bearer_claims(
    request: Request, session: AsyncSession, runtime: Runtime
) -> tuple[access_tokens.AccessClaims, User, str]:
    """The claims and user of an access token issued to a client with the ``openid`` scope, for a user
    still in the token's organization (RFC 6750 errors otherwise)."""
    token = await _presented_token(request)
    if token is None:
        raise Unauthenticated("an access token is required (Authorization: Bearer)")
    principal = await user_principal(session, runtime, token)
    claims = await access_tokens.verify(runtime.keyring, runtime.settings, token)
    if claims.client_id is None or principal.user is None:
        raise Unauthenticated("userinfo answers access tokens issued to a client")
    if claims.org_id is not None and not await grants.still_member(session, claims.org_id, claims.subject):
        raise Unauthenticated("the user is no longer an active member of the token's organization")
    if "openid" not in (claims.scope or "").split():
        raise InsufficientScope("openid")
    return claims, principal.user, claims.client_id


@router.options("/userinfo")
@router.options("/revoke")
async def cors_preflight(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """CORS preflight for browser clients (the client's registered allowed_origins)."""
    return await preflight(request, session)


@router.api_route("/userinfo", methods=["GET", "POST"], dependencies=[Depends(for_errors)])
async def userinfo(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> JSONResponse:
    """The signed-in user's claims, as the access token's scopes allow (public: the access token is the
    credential)."""
    claims, user, client_id = await _bearer_claims(request, session, runtime)
    cors = for_client(request, await clients.find(session, client_id))
    body: dict[str, Any] = {"sub": user.id, **oidc_tokens.user_claims(user, claims.scope or "")}
    if claims.org_id is not None:
        body["org_id"] = claims.org_id
    return JSONResponse(body, headers={**NO_STORE, **cors})


async def _refresh_family(session: AsyncSession, client: OAuthClient, token: str) -> str | None:
    """The session (family) of a refresh token issued to ``client``; None for anything else."""
    found = await refresh_tokens.find(session, token)
    grant = await grants.find(session, found.family_id) if found is not None else None
    return grant.family_id if grant is not None and grant.client_id == client.id else None


async def _access_family(runtime: Runtime, client: OAuthClient, token: str) -> str | None:
    """The session of an access token issued to ``client``; None for anything else. A machine token
    (client_credentials) has no session to end: unsupported_token_type says it stays valid (RFC 7009 2.2.1)."""
    try:
        claims = await access_tokens.verify(runtime.keyring, runtime.settings, token)
    except Unauthenticated:
        return None
    if claims.client_id != client.id:
        return None
    if claims.session_id is None:
        detail = "a client_credentials token cannot be revoked; it expires with its lifetime"
        raise OAuthError("unsupported_token_type", detail)
    return claims.session_id


@router.post("/revoke", dependencies=[Depends(for_errors), Depends(rate_limited("oidc-token"))])
async def revoke(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Revoke a refresh or access token issued to the calling client: its whole session ends (RFC 7009;
    200 whatever the token was)."""
    fields = await client_auth.read_form(request)
    client = await client_auth.authenticate(session, request, fields)
    cors = for_client(request, client)
    token = fields.get("token")
    if not token:
        raise OAuthError("invalid_request", "missing parameter(s): token")
    family = await _refresh_family(session, client, token) or await _access_family(runtime, client, token)
    if family is not None:
        await refresh_tokens.revoke_family(session, family)
    return Response(status_code=200, headers={**NO_STORE, **cors})


@router.post("/logout")
async def end_session_form(request: Request) -> Response:
    """RP-initiated logout sent as a form (the specification allows GET and POST): answered as the same
    request by GET, which a browser follows with its session cookie (SameSite=Lax keeps it off a POST)."""
    text = _("The application did not say who is signing out. Use the sign-out button of your account page.")
    if media_type(request) != "application/x-www-form-urlencoded":
        return message(request, _("Sign out"), text, 400, account="/ui/account")
    try:
        form = await request.form()
    except MalformedBody:
        return message(request, _("Sign out"), text, 400, account="/ui/account")
    return redirect(f"/oidc/logout?{urlencode([(k, v) for k, v in form.multi_items() if isinstance(v, str)])}")


@router.get("/logout")
@writes  # it ends the browser's session
async def end_session(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """RP-initiated logout: with a valid ``id_token_hint`` the browser's session (and the tokens it started)
    ends, and the browser goes to ``post_logout_redirect_uri`` when the client registered it exactly."""
    query = request.query_params
    hint = query.get("id_token_hint")
    claims = await oidc_tokens.read_id_token_hint(runtime, hint) if hint and len(hint) < 8192 else None
    if claims is None:
        text = _("The application did not say who is signing out. Use the sign-out button of your account page.")
        return message(request, _("Sign out"), text, 400, account="/ui/account")
    client = await clients.find(session, str(claims.get("aud", "")))
    if query.get("client_id") is not None and (client is None or query["client_id"] != client.id):
        text = _("The application that asked to sign you out is not the one you signed in to.")
        return message(request, _("Signed out?"), text, 400)
    current = await signed_in(request, session, one_factor=True)
    target = query.get("post_logout_redirect_uri")
    if target is not None and (client is None or target not in client.post_logout_redirect_uris):
        text = _("The application asked to go to an address it has not registered.")
        return message(request, _("Signed out?"), text, 400)
    if target is not None and query.get("state"):
        target = f"{target}{'&' if '?' in target else '?'}{urlencode({'state': query['state']})}"
    response = redirect(target) if target is not None else message(request, _("Signed out"), _("You are signed out."))
    if current is not None and current.user.id == claims.get("sub"):
        await close_session(request, session, response)
    return response
