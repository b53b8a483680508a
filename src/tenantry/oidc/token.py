"""The OpenID provider's token endpoint: authorization_code (PKCE), refresh_token (rotated, reuse ends the
session), client_credentials and token exchange (``grants.py``). Clients authenticate per ``client_auth``."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import oidc_tokens
from tenantry.auth.brute_force import rate_limited
from tenantry.auth.login import SECOND_FACTOR_NOW_REQUIRED
from tenantry.auth.oidc_tokens import ClientTokens, Grant
from tenantry.core.clients import authorization, grants
from tenantry.core.clients import service as clients
from tenantry.core.clients.models import OAuthClient
from tenantry.core.clients.schemas import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, TOKEN_EXCHANGE
from tenantry.core.mfa import challenges
from tenantry.core.orgs import service as orgs
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users import service as users
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.errors import OAuthError
from tenantry.oidc import client_auth, exchange
from tenantry.oidc.cors import for_client, for_errors, preflight
from tenantry.oidc.errors import OidcRoute
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.web.headers import NO_STORE

router = APIRouter(prefix="/oidc", route_class=OidcRoute, include_in_schema=False)
_SUPPORTED = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS, TOKEN_EXCHANGE)


def _required(fields: dict[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise OAuthError("invalid_request", f"missing parameter(s): {', '.join(missing)}")
    return [fields[name] for name in names]


async def _live_user(session: AsyncSession, user_id: str) -> User:
    user = await users.get_live(session, user_id)
    if user is None or user.status != USER_ACTIVE:
        raise OAuthError("invalid_grant", "the account is disabled")
    return user


async def _code_grant(
    session: AsyncSession, runtime: Runtime, client: OAuthClient, fields: dict[str, str]
) -> ClientTokens:
    (code,) = _required(fields, "code")
    row = await authorization.redeem_code(
        session, client, code, fields.get("redirect_uri"), fields.get("code_verifier")
    )
    user = await _live_user(session, row.user_id)
    org = await orgs.find(session, row.org_id) if row.org_id else None
    if row.org_id is not None and org is None:
        raise OAuthError("invalid_grant", "the organization no longer exists")
    grant = Grant(client, user, org, row.scope, row.auth_time, row.browser_session_id, row.nonce, row.amr)
    tokens, family_id = await oidc_tokens.issue(session, runtime, grant)
    await authorization.remember_family(session, row, family_id)
    user.last_login_at = row.auth_time
    return tokens


def _narrowed(granted: str, requested: str | None) -> str:
    """A refresh may ask for fewer scopes than were granted, never more (RFC 6749 section 6)."""
    if requested is None:
        return granted
    asked = list(dict.fromkeys(requested.split()))
    if not asked or not set(asked) <= set(granted.split()):
        raise OAuthError("invalid_scope", f"the scope may only narrow what was granted: {granted}")
    return " ".join(asked)


async def _refresh_grant(
    session: AsyncSession, runtime: Runtime, client: OAuthClient, fields: dict[str, str]
) -> ClientTokens:
    (presented,) = _required(fields, "refresh_token")
    spent = await refresh_tokens.spend(session, presented)
    found = await grants.find(session, spent.family_id)
    if found is None or found.client_id != client.id:
        raise OAuthError("invalid_grant", "the refresh token is invalid, expired or revoked")
    user = await _live_user(session, spent.user_id)
    if user.tokens_valid_after is not None and spent.created_at < user.tokens_valid_after:
        raise OAuthError("invalid_grant", "the session has ended")
    if await challenges.lacks_required_factor(session, runtime.settings, user, found.amr):
        raise OAuthError("invalid_grant", SECOND_FACTOR_NOW_REQUIRED)
    org = await orgs.find(session, found.org_id) if found.org_id else None
    if found.org_id is not None and org is None:
        raise OAuthError("invalid_grant", "the organization no longer exists")
    scope = _narrowed(found.scope, fields.get("scope"))
    grant = Grant(client, user, org, scope, found.auth_time, found.browser_session_id, amr=found.amr)
    tokens, _ = await oidc_tokens.issue(session, runtime, grant, family_id=spent.family_id)
    return tokens


@router.options("/token")
async def token_preflight(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """CORS preflight for browser clients (the client's registered allowed_origins)."""
    return await preflight(request, session)


@router.post("/token", dependencies=[Depends(for_errors)])
async def token(
    request: Request,
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
    _: None = Depends(rate_limited("oidc-token")),
) -> JSONResponse:
    """Token endpoint (RFC 6749 section 3.2): authorization_code, refresh_token, client_credentials, token
    exchange (RFC 8693)."""
    fields = await client_auth.read_form(request)
    client = await client_auth.authenticate(session, request, fields)
    cors = for_client(request, client)
    (grant_type,) = _required(fields, "grant_type")  # missing is invalid_request; unknown, unsupported (RFC 6749 5.2)
    if grant_type not in _SUPPORTED:
        raise OAuthError("unsupported_grant_type", f"grant_type must be one of: {', '.join(_SUPPORTED)}")
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", f"this client may not use the {grant_type} grant")
    if refusal := clients.grant_refused(client, grant_type):  # registered before the rule was
        raise OAuthError("unauthorized_client", refusal)
    if grant_type == AUTHORIZATION_CODE:
        tokens = await _code_grant(session, runtime, client, fields)
    elif grant_type == REFRESH_TOKEN:
        tokens = await _refresh_grant(session, runtime, client, fields)
    elif grant_type == CLIENT_CREDENTIALS:
        tokens = await exchange.client_credentials(session, runtime, client, fields)
    else:
        tokens = await exchange.switch_organization(session, runtime, client, fields)
    body = tokens.model_dump(exclude_none=True)
    return JSONResponse(body, headers={**NO_STORE, **cors})
