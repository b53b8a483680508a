"""Turn a request's credentials into a Principal: a user (JWT) or an organization API key."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import access_tokens
from tenantry.auth.access_tokens import AccessClaims
from tenantry.core.apikeys import service as api_keys
from tenantry.core.apikeys.models import ApiKey
from tenantry.core.tokens import impersonation
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.errors import Unauthenticated
from tenantry.runtime import Runtime, runtime_of, session_of


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    api_key: ApiKey | None = None
    impersonator_id: str | None = None
    session_id: str | None = None
    org_id: str | None = None
    """The only organization this credential may act in (tokens issued for one organization, impersonation
    tokens); None: no such bound."""
    client_id: str | None = None
    """The application the OpenID provider issued the token to; None for the user's own (first-party) token."""
    client_permissions: frozenset[str] | None = None
    """What a client's token may do in its organization at most (``AccessClaims.permissions``)."""
    second_factor: bool = False
    """The token's sign-in proved a second factor (``AccessClaims.second_factor``)."""
    issued_at: datetime | None = None
    """When a user's own credential was issued (a token's ``iat``, a browser session's start): with
    ``session_id``, the sign-in that work outliving the request checks again (``Actor.sign_in``)."""

    @property
    def reaches_no_org(self) -> bool:
        """An application's token issued for no organization (its user had none): it acts in none."""
        return self.client_id is not None and self.org_id is None

    @property
    def platform_admin(self) -> bool:
        """A platform admin's own unbound token: platform powers never ride on a token bound to one org, nor on
        one issued to an application."""
        return self.user is not None and self.user.platform_admin and self.org_id is None and self.client_id is None


@dataclass(frozen=True)
class CredentialSource:
    """A header that may carry a credential; ``scheme`` (e.g. "bearer") when the value is ``<scheme> <credential>``."""

    header: str
    scheme: str | None = None


DEFAULT_SOURCES = (CredentialSource("authorization", "bearer"), CredentialSource("x-api-key"))


def presented_credential(request: Request) -> str | None:
    """The bearer token or API key the request carries, from the first of the app's sources present.

    The native API reads ``Authorization: Bearer`` then ``x-api-key``; a dialect's sub-application may
    declare its vendor's headers in ``app.state.credential_sources``.
    """
    sources: tuple[CredentialSource, ...] = getattr(request.app.state, "credential_sources", DEFAULT_SOURCES)
    for source in sources:
        value = request.headers.get(source.header)
        if not value:
            continue
        if source.scheme is None:
            return value.strip() or None
        scheme, _, credential = value.partition(" ")
        if scheme.lower() == source.scheme and credential.strip():
            return credential.strip()
        raise Unauthenticated(f"the {source.header} header must be '{source.scheme.title()} <token>'")
    return None


def _still_valid(user: User | None, claims: AccessClaims) -> User:
    """The active account behind a token, when its sessions have not been ended since the token was issued.

    ``iat`` counts whole seconds. A token of a session is also refused once its session ends (the same
    revocation ends it), so one issued within the revocation's second stands; a token without a session
    issued within that second may predate the revocation, and is refused.
    """
    if user is None or user.status != USER_ACTIVE:
        raise Unauthenticated("the access token is no longer valid")
    if user.tokens_valid_after is not None:
        second = math.floor(user.tokens_valid_after.timestamp())
        if claims.issued_at < second or (claims.session_id is None and claims.issued_at <= second):
            raise Unauthenticated("the access token is no longer valid")
    return user


async def _impersonated(session: AsyncSession, claims: AccessClaims) -> User:
    """The user an impersonation token acts as, while the impersonator still may (``core.tokens.impersonation``)."""
    assert claims.impersonator_id is not None
    assert claims.org_id is not None  # (an impersonation token always names its organization)
    found = await impersonation.check(
        session,
        user_id=claims.subject,
        impersonator_id=claims.impersonator_id,
        org_id=claims.org_id,
        impersonator_session_id=claims.impersonator_session_id,
        issued_at=claims.issued_at,
    )
    user = _still_valid(found.user, claims)
    if not found.impersonator_may:
        raise Unauthenticated("the impersonation has ended: the impersonator may no longer act as this user")
    return user


async def _verified(runtime: Runtime, token: str) -> AccessClaims:
    claims = await access_tokens.verify(runtime.keyring, runtime.settings, token)
    if claims.client_id is not None and claims.client_id == claims.subject:
        raise Unauthenticated("a client's own token (client_credentials) acts for no user of this API")
    return claims


def own_token_principal(claims: AccessClaims, found: User | None, session_ended: bool) -> Principal:
    """The principal of a user's own (not impersonation) token, once its account and session are read: 401
    when the account is gone or disabled, its tokens were revoked since, or the session has ended."""
    user = _still_valid(found, claims)
    if session_ended:
        raise Unauthenticated("the session has ended")
    return Principal(
        user=user,
        session_id=claims.session_id,
        org_id=claims.org_id,
        client_id=claims.client_id,
        client_permissions=claims.permissions,
        second_factor=claims.second_factor,
        issued_at=datetime.fromtimestamp(claims.issued_at, UTC),
    )


async def _impersonation_principal(session: AsyncSession, claims: AccessClaims) -> Principal:
    user = await _impersonated(session, claims)
    return Principal(
        user=user, impersonator_id=claims.impersonator_id, session_id=claims.session_id, org_id=claims.org_id
    )


async def user_principal(session: AsyncSession, runtime: Runtime, token: str) -> Principal:
    """The token's user. A signed-out session (``sid``) ends at once; an impersonation token is re-checked
    against the impersonator's account, session and rights in its organization on every request."""
    claims = await _verified(runtime, token)
    if claims.impersonator_id is not None:
        return await _impersonation_principal(session, claims)
    found, session_ended = await refresh_tokens.live_user_and_session(session, claims.subject, claims.session_id)
    return own_token_principal(claims, found, session_ended)


@dataclass(frozen=True)
class Presented:
    """A request's credential, checked as far as needs no database for a user's own token.

    Either ``principal`` (an API key, an impersonation token: resolved) or ``claims`` (a user's own token,
    its signature and expiry verified): whoever needs the account reads it, with what else it needs, in its
    own statement and finishes with ``own_token_principal``.
    """

    principal: Principal | None = None
    claims: AccessClaims | None = None


async def presented(request: Request) -> Presented:
    """Dependency: the request's credential, as far as it can be checked without the route's organization."""
    session, runtime = session_of(request), runtime_of(request)
    credential = presented_credential(request)
    if credential is None:
        raise Unauthenticated("credentials are required: a bearer token or an API key")
    if api_keys.looks_like_key(credential):
        api_key = await api_keys.authenticate(session, credential)
        if api_key is None:
            raise Unauthenticated("the API key is invalid or revoked")
        return Presented(principal=Principal(api_key=api_key))
    claims = await _verified(runtime, credential)
    if claims.impersonator_id is not None:
        return Presented(principal=await _impersonation_principal(session, claims))
    return Presented(claims=claims)


async def current_principal(request: Request, credential: Presented = Depends(presented)) -> Principal:
    if credential.principal is not None:
        return credential.principal
    claims = credential.claims
    assert claims is not None
    found, session_ended = await refresh_tokens.live_user_and_session(
        session_of(request), claims.subject, claims.session_id
    )
    return own_token_principal(claims, found, session_ended)
