"""Access tokens: short-lived JWTs (RFC 9068 ``at+jwt``) signed with EdDSA; verification pins everything."""

import time
from dataclasses import dataclass
from typing import Any

import jwt

from tenantry.auth.keys import ALGORITHM, KeyRing
from tenantry.db.ids import new_id
from tenantry.errors import Unauthenticated
from tenantry.settings import Settings

TOKEN_TYPE = "at+jwt"
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    issued_at: float
    session_id: str | None
    impersonator_id: str | None


async def issue(
    keyring: KeyRing, settings: Settings, user_id: str, *, session_id: str | None, impersonator_id: str | None = None
) -> str:
    now = time.time()
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + settings.access_token_ttl_seconds,
        "jti": new_id(),
    }
    if session_id is not None:
        claims["sid"] = session_id
    if impersonator_id is not None:
        claims["act"] = {"sub": impersonator_id}
    return await keyring.sign(claims)


async def verify(keyring: KeyRing, settings: Settings, token: str) -> AccessClaims:
    """Check header (alg, typ, kid), signature, issuer, audience and times; 401 on any doubt."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE or not isinstance(header.get("kid"), str):
            raise Unauthenticated("the access token is invalid")
        key = await keyring.verifier(header["kid"])
        if key is None:
            raise Unauthenticated("the access token is invalid")
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.issuer,
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
    session_id = payload.get("sid")
    return AccessClaims(
        subject=subject,
        issued_at=float(issued_at),
        session_id=session_id if isinstance(session_id, str) else None,
        impersonator_id=impersonator if isinstance(impersonator, str) else None,
    )
