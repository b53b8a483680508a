"""Tokens the OpenID provider mints: an RFC 9068 access token bound to one organization (EdDSA, verified
like every access token) and an OpenID Connect ID token (RS256). Every time is an integer."""

import base64
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import access_tokens
from tenantry.auth.access_tokens import ACR_ONE_FACTOR, ACR_TWO_FACTORS
from tenantry.auth.keys import RS256
from tenantry.auth.second_factor import MFA_AMR, PASSWORD_AMR
from tenantry.core.clients import grants
from tenantry.core.clients.models import OAuthClient
from tenantry.core.clients.schemas import REFRESH_TOKEN
from tenantry.core.orgs.models import Organization
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users.models import User
from tenantry.runtime import Runtime

_PROFILE = ("name", "given_name", "family_name", "locale")


class ClientTokens(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None
    id_token: str | None = Field(default=None, description="With the `openid` scope.")
    issued_token_type: str | None = Field(default=None, description="Token exchange (RFC 8693) only.")


@dataclass(frozen=True)
class Grant:
    """Who the tokens are for and what for; ``browser_session_id``, the hosted pages' session the user signed
    in with, whose sign-out (RP-initiated logout) ends the tokens."""

    client: OAuthClient
    user: User
    org: Organization | None
    scope: str
    auth_time: datetime
    browser_session_id: str | None = None
    nonce: str | None = None
    amr: list[str] | None = None
    """How the user signed in (RFC 8176); None: kept before ``amr`` was (a password)."""
    parent_family_id: str | None = None
    """The token session this one is exchanged from (RFC 8693), which ends it when it ends."""

    @property
    def methods(self) -> list[str]:
        return self.amr or [PASSWORD_AMR]


def acr_of(amr: list[str]) -> str:
    """``acr``: two factors (NIST AAL2) when ``amr`` says ``mfa``, else one."""
    return ACR_TWO_FACTORS if MFA_AMR in amr else ACR_ONE_FACTOR


def scopes(scope: str) -> set[str]:
    return set(scope.split())


def _half_hash(token: str) -> str:
    """``at_hash`` (OIDC Core 3.1.3.6): the left half of the SHA-256 of the access token, base64url."""
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def user_claims(user: User, scope: str) -> dict[str, Any]:
    """The standard claims the scopes ask for (OIDC Core 5.4)."""
    granted = scopes(scope)
    claims: dict[str, Any] = {}
    if "email" in granted:
        claims.update(email=user.email, email_verified=user.email_verified)
    if "profile" in granted:
        name = f"{user.first_name} {user.last_name}".strip()
        values = {"name": name, "given_name": user.first_name, "family_name": user.last_name, "locale": user.locale}
        claims.update({key: values[key] for key in _PROFILE if values[key]})
    return claims


async def _access_token(
    session: AsyncSession, runtime: Runtime, grant: Grant, family_id: str | None, ttl: int | None = None
) -> str:
    extra: dict[str, Any] = {"client_id": grant.client.id, "scope": grant.scope}
    extra["auth_time"] = int(grant.auth_time.timestamp())
    if grant.org is not None:
        rights = await grants.rights_in(session, grant.org, grant.user)
        limit = grant.client.permissions
        permissions = rights.permissions if limit is None else [name for name in rights.permissions if name in limit]
        extra.update(org_slug=grant.org.slug, roles=rights.roles, permissions=permissions)
    org_id = grant.org.id if grant.org is not None else None
    return await access_tokens.issue(
        runtime.keyring,
        runtime.settings,
        grant.user.id,
        session_id=family_id,
        org_id=org_id,
        ttl_seconds=ttl,
        amr=grant.methods,
        extra_claims=extra,
    )


async def id_token(runtime: Runtime, grant: Grant, access_token: str | None, session_id: str) -> str:
    """The ID token; ``sid`` is the token session, as in the access token, introspection and revocation: one
    session identifier per sign-in of the user at this client, which refreshes keep and logout ends."""
    now = int(time.time())
    claims: dict[str, Any] = {
        **user_claims(grant.user, grant.scope),
        "iss": runtime.settings.oidc_issuer,
        "sub": grant.user.id,
        "aud": grant.client.id,
        "azp": grant.client.id,
        "iat": now,
        "exp": now + runtime.settings.access_token_ttl_seconds,
        "auth_time": int(grant.auth_time.timestamp()),
        "amr": grant.methods,
        "acr": acr_of(grant.methods),
    }
    if grant.nonce is not None:
        claims["nonce"] = grant.nonce
    claims["sid"] = session_id
    if access_token is not None:
        claims["at_hash"] = _half_hash(access_token)
    if grant.org is not None:
        claims.update(org_id=grant.org.id, org_slug=grant.org.slug)
    return await runtime.keyring.sign(claims, algorithm=RS256, typ="JWT")


async def issue(
    session: AsyncSession, runtime: Runtime, grant: Grant, *, family_id: str | None = None
) -> tuple[ClientTokens, str]:
    """Tokens for ``grant``: a new token session, or the next tokens of ``family_id`` (refresh). Answers the
    tokens and the session (refresh-token family) they belong to."""
    settings = runtime.settings
    refresh = await refresh_tokens.issue(
        session, grant.user.id, refresh_tokens.lifetime_of(settings), family_id, continues=grant.parent_family_id
    )
    if family_id is None:
        await grants.start(
            session,
            family_id=refresh.family_id,
            client=grant.client,
            user=grant.user,
            org=grant.org,
            scope=grant.scope,
            auth_time=grant.auth_time,
            browser_session_id=grant.browser_session_id,
            amr=grant.amr,
            parent_family_id=grant.parent_family_id,
        )
    access = await _access_token(session, runtime, grant, refresh.family_id)
    tokens = ClientTokens(
        access_token=access,
        expires_in=settings.access_token_ttl_seconds,
        scope=grant.scope,
        refresh_token=refresh.token if REFRESH_TOKEN in grant.client.grant_types else None,
    )
    if "openid" in scopes(grant.scope):
        tokens.id_token = await id_token(runtime, grant, access, refresh.family_id)
    return tokens, refresh.family_id


async def read_id_token_hint(runtime: Runtime, token: str) -> dict[str, Any] | None:
    """The claims of an ID token this provider signed (expired ones too, as RP-initiated logout allows)."""
    try:
        header = jwt.get_unverified_header(token)
        key = await runtime.keyring.verifier(str(header.get("kid")))
        if header.get("alg") != RS256 or not isinstance(key, RSAPublicKey):
            return None
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[RS256],
            issuer=runtime.settings.oidc_issuer,
            options={"verify_exp": False, "verify_aud": False, "require": ["sub", "aud", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


async def machine_token(runtime: Runtime, client: OAuthClient, org: Organization) -> ClientTokens:
    """client_credentials: a token for the client itself (``sub`` = ``client_id``), bound to its organization.
    It carries no roles: it names the organization for the application's own APIs, and acts for no user."""
    extra = {"client_id": client.id, "scope": "", "org_slug": org.slug, "roles": [], "permissions": []}
    settings = runtime.settings
    access = await access_tokens.issue(
        runtime.keyring, settings, client.id, session_id=None, org_id=org.id, extra_claims=extra
    )
    return ClientTokens(access_token=access, expires_in=settings.access_token_ttl_seconds, scope="")
