"""The two grants that need no browser: client_credentials (a machine of an organization) and RFC 8693
token exchange, which switches a user's token to another organization where they are an active member."""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import oidc_tokens
from tenantry.auth.login import SECOND_FACTOR_NOW_REQUIRED
from tenantry.auth.oidc_tokens import ClientTokens, Grant
from tenantry.auth.principal import user_principal
from tenantry.core.clients import authorization, grants
from tenantry.core.clients.models import OAuthClient
from tenantry.core.mfa import challenges
from tenantry.core.orgs import service as orgs
from tenantry.errors import OAuthError, Unauthenticated
from tenantry.runtime import Runtime

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


async def client_credentials(
    session: AsyncSession, runtime: Runtime, client: OAuthClient, fields: dict[str, str]
) -> ClientTokens:
    """A token for the machine itself; the token endpoint let only a confidential client of an organization
    through (``clients.grant_refused``)."""
    org = await orgs.find(session, client.org_id) if client.org_id else None
    if org is None:
        raise OAuthError("invalid_client", "the client's organization no longer exists", status=401)
    return await oidc_tokens.machine_token(runtime, client, org)


async def switch_organization(
    session: AsyncSession, runtime: Runtime, client: OAuthClient, fields: dict[str, str]
) -> ClientTokens:
    """Trade a user's access token issued to this client for tokens in ``organization`` (id or slug)."""
    subject_token, token_type = fields.get("subject_token"), fields.get("subject_token_type")
    target = fields.get("organization")
    if not subject_token or not target or token_type != ACCESS_TOKEN_TYPE:
        message = f"send subject_token, subject_token_type={ACCESS_TOKEN_TYPE} and organization"
        raise OAuthError("invalid_request", message)
    if fields.get("actor_token") or fields.get("actor_token_type"):
        raise OAuthError("invalid_request", "delegation (actor_token) is not supported: switching acts as the user")
    if fields.get("requested_token_type", ACCESS_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
        raise OAuthError("invalid_request", f"requested_token_type must be {ACCESS_TOKEN_TYPE}")
    try:
        principal = await user_principal(session, runtime, subject_token)
    except Unauthenticated:
        raise OAuthError("invalid_grant", "the subject_token is invalid, expired or revoked") from None
    current = await grants.find(session, principal.session_id) if principal.session_id else None
    if principal.user is None or principal.impersonator_id is not None or current is None:
        raise OAuthError("invalid_grant", "the subject_token was not issued by a sign-in to a client")
    if current.client_id != client.id:
        raise OAuthError("invalid_grant", "the subject_token was issued to another client")
    if await challenges.lacks_required_factor(session, runtime.settings, principal.user, current.amr):
        raise OAuthError("invalid_grant", SECOND_FACTOR_NOW_REQUIRED)  # as a refresh of this session would
    try:
        choice = await authorization.choose_org(session, client, principal.user, target)
    except OAuthError as error:
        raise OAuthError("invalid_target", error.detail) from None
    grant = Grant(
        client,
        principal.user,
        choice.org,
        current.scope,
        current.auth_time,
        current.browser_session_id,
        amr=current.amr,
        parent_family_id=current.family_id,
    )
    tokens, _ = await oidc_tokens.issue(session, runtime, grant)
    tokens.issued_token_type = ACCESS_TOKEN_TYPE
    return tokens
