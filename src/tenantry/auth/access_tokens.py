"""Access tokens: short-lived JWTs (RFC 9068 ``at+jwt``) signed with EdDSA; verification pins everything."""

import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tenantry.auth.keys import ALGORITHM, KeyRing
from tenantry.db.ids import new_id
from tenantry.errors import Unauthenticated
from tenantry.settings import Settings

TOKEN_TYPE = "at+jwt"
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_LEEWAY_SECONDS = 5
ORG_CLAIM = "org_id"
ACR_ONE_FACTOR = "urn:tenantry:acr:1fa"
ACR_TWO_FACTORS = "urn:tenantry:acr:2fa"
"""``acr`` of tokens: one factor (a password, a link), or two (``amr`` holds ``mfa``: NIST AAL2)."""


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    issued_at: float
    session_id: str | None
    impersonator_id: str | None
    org_id: str | None = None
    """The only organization the token may act in (tokens issued for one, and every impersonation token)."""
    client_id: str | None = None
    """The OpenID provider's client the token was issued to; None for first-party tokens."""
    impersonator_session_id: str | None = None
    """The impersonator's session when they minted the token: it ends with that session."""
    expires_at: int = 0
    token_id: str = ""
    """``jti``."""
    scope: str | None = None
    """The scopes granted to the client (tokens the OpenID provider issued)."""
    permissions: frozenset[str] | None = None
    """A client's token: the permissions it was issued with in its organization (the user's, narrowed to the
    client's ``permissions``; none without an organization); None for other tokens."""
    second_factor: bool = False
    """``amr`` holds ``mfa``: the sign-in the token came from proved a second factor."""


async def issue(
    keyring: KeyRing,
    settings: Settings,
    user_id: str,
    *,
    session_id: str | None,
    impersonator_id: str | None = None,
    impersonator_session_id: str | None = None,
    org_id: str | None = None,
    ttl_seconds: int | None = None,
    amr: list[str] | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """Sign an access token, bound to ``org_id`` when given (an impersonation token, ``act`` per RFC 8693,
    always is). ``extra_claims`` adds what the OpenID provider tells the application (client, scope, roles)."""
    if impersonator_id is not None and org_id is None:
        raise ValueError("an impersonation token is bound to one organization")
    now = int(time.time())  # NumericDates are whole seconds: strict JWT libraries refuse fractions
    claims: dict[str, Any] = {
        **(extra_claims or {}),
        "iss": settings.access_token_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl_seconds or settings.access_token_ttl_seconds),
        "jti": new_id(),
    }
    if session_id is not None:
        claims["sid"] = session_id
    if amr:
        claims["amr"] = amr
        claims["acr"] = ACR_TWO_FACTORS if "mfa" in amr else ACR_ONE_FACTOR
    if impersonator_id is not None:
        claims["act"] = {"sub": impersonator_id}
        if impersonator_session_id is not None:
            claims["act"]["sid"] = impersonator_session_id
    if org_id is not None:
        claims[ORG_CLAIM] = org_id
    return await keyring.sign(claims)


_CACHE_SIZE = 10_000


async def verify(keyring: KeyRing, settings: Settings, token: str) -> AccessClaims:
    """Check header (alg, typ, kid), signature, issuer, audience and times; 401 on any doubt.

    A token seen before is taken from the key ring's cache of verified claims until it expires, once the keys
    are no older than a minute (``KeyRing.refresh_if_due``: reading them again empties the cache, so a token of a
    key retired since is refused). What can change about a valid token — its user, its session — is checked
    by the caller on every request, cached or not.
    """
    await keyring.refresh_if_due()
    cached = keyring.verified.get(token)
    if cached is not None and time.time() < cached[1]:
        claims: AccessClaims = cached[0]
        return claims
    claims, valid_until = await _verify(keyring, settings, token)
    if len(keyring.verified) >= _CACHE_SIZE:
        del keyring.verified[next(iter(keyring.verified))]  # the oldest entry
    keyring.verified[token] = (claims, valid_until)
    return claims


async def _verify(keyring: KeyRing, settings: Settings, token: str) -> tuple[AccessClaims, float]:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE or not isinstance(header.get("kid"), str):
            raise Unauthenticated("the access token is invalid")
        key = await keyring.verifier(header["kid"])
        if not isinstance(key, Ed25519PublicKey):
            raise Unauthenticated("the access token is invalid")
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.access_token_issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the access token has expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("the access token is invalid") from None
    actor = payload.get("act")
    subject, issued_at = payload["sub"], payload["iat"]
    if not isinstance(subject, str) or not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
        raise Unauthenticated("the access token is invalid")
    impersonator = actor.get("sub") if isinstance(actor, dict) else None
    impersonator_session = actor.get("sid") if isinstance(actor, dict) else None
    org_id = payload.get(ORG_CLAIM)
    if org_id is not None and not isinstance(org_id, str):
        raise Unauthenticated("the access token is invalid")
    if actor is not None and not (isinstance(impersonator, str) and isinstance(org_id, str)):
        raise Unauthenticated("the access token is invalid")  # an impersonation token always names both
    session_id, client_id, scope = payload.get("sid"), payload.get("client_id"), payload.get("scope")
    listed = payload.get("permissions")
    permissions: frozenset[str] | None = None
    if client_id is not None:  # (the provider lists them in every token for an organization: one without, none)
        permissions = (
            frozenset(listed) if isinstance(listed, list) and all(isinstance(n, str) for n in listed) else frozenset()
        )
    claims = AccessClaims(
        subject=subject,
        issued_at=float(issued_at),
        session_id=session_id if isinstance(session_id, str) else None,
        impersonator_id=impersonator if isinstance(impersonator, str) else None,
        org_id=org_id,
        client_id=client_id if isinstance(client_id, str) else None,
        impersonator_session_id=impersonator_session if isinstance(impersonator_session, str) else None,
        expires_at=int(payload["exp"]),
        token_id=str(payload["jti"]),
        scope=scope if isinstance(scope, str) else None,
        permissions=permissions,
        second_factor=isinstance(amr := payload.get("amr"), list) and "mfa" in amr,
    )
    return claims, float(payload["exp"]) + _LEEWAY_SECONDS
