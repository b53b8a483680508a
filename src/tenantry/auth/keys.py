"""Signing keys for access tokens (Ed25519, EdDSA), kept in the database, published as a JWKS.

Every process keeps the keys in memory. The newest live key signs; every key not yet retired verifies.
A token with a ``kid`` this process has not seen makes it reload the keys (at most once a second), and
every process reloads them at least once a minute, so a key added by ``tenantry keys rotate`` starts
signing, and a key retired by ``tenantry keys retire`` stops verifying, within a minute and without a
restart. Retire a key only once the tokens it signed have expired (``retire`` checks it).
"""

import base64
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.tokens.models import SigningKey
from tenantry.db.base import utcnow
from tenantry.db.engine import Database
from tenantry.errors import Conflict, NotFound

ALGORITHM = "EdDSA"
_RELOAD_INTERVAL = 1.0
_SIGNING_KEY_REFRESH = 60.0


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_signing_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    row = SigningKey(algorithm=ALGORITHM, private_key_pem=pem, public_jwk={})
    row.public_jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw_public), "alg": ALGORITHM, "use": "sig"}
    return row


async def live_keys(session: AsyncSession) -> list[SigningKey]:
    statement = select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at, SigningKey.id)
    return list(await session.scalars(statement))


async def all_keys(session: AsyncSession) -> list[SigningKey]:
    return list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)))


async def rotate(session: AsyncSession) -> SigningKey:
    """Add a signing key: it signs from now on (each process within a minute); older keys keep verifying."""
    key = new_signing_key()
    session.add(key)
    await session.flush()
    return key


async def retire(session: AsyncSession, kid: str, *, token_lifetime: timedelta, force: bool = False) -> SigningKey:
    """Stop a key verifying. Refused for the signing key, and while tokens it signed may still be valid."""
    live = await live_keys(session)
    key = next((row for row in live if row.id == kid), None)
    if key is None:
        raise NotFound(f"no live signing key {kid!r}")
    if key is live[-1]:
        raise Conflict("this key is signing tokens: rotate first, then retire it once its tokens have expired")
    successor = live[live.index(key) + 1]
    safe_from = successor.created_at + token_lifetime
    if not force and utcnow() < safe_from:
        raise Conflict(f"tokens signed with this key may be valid until {safe_from.isoformat()}; wait or force")
    key.retired_at = utcnow()
    await session.flush()
    return key


@dataclass(frozen=True)
class _Signer:
    kid: str
    key: Ed25519PrivateKey


class KeyRing:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._verifiers: dict[str, Ed25519PublicKey] = {}
        self._jwks: list[dict[str, Any]] = []
        self._signer: _Signer | None = None
        self._loaded_at = 0.0
        self.verified: dict[str, tuple[Any, float]] = {}
        """Claims of tokens whose signature these keys verified, with when they stop being valid: a small cache
        kept by ``access_tokens.verify`` and emptied whenever the keys are (re)loaded."""

    async def load(self, *, create_if_missing: bool = True) -> None:
        async with self._database.transaction(write=create_if_missing) as session:
            keys = await live_keys(session)
            if not keys and create_if_missing:
                session.add(new_signing_key())
                await session.flush()
                keys = await live_keys(session)
        self._install(keys)

    def _install(self, keys: list[SigningKey]) -> None:
        verifiers: dict[str, Ed25519PublicKey] = {}
        signer = None
        for row in keys:
            private = serialization.load_pem_private_key(row.private_key_pem.encode(), password=None)
            assert isinstance(private, Ed25519PrivateKey)
            verifiers[row.id] = private.public_key()
            signer = _Signer(row.id, private)
        self._verifiers = verifiers
        self._jwks = [{**row.public_jwk, "kid": row.id} for row in keys]
        self._signer = signer
        self._loaded_at = time.monotonic()
        self.verified.clear()  # a token verified with a key since retired must be checked again

    async def _reload_soon(self) -> None:
        if time.monotonic() - self._loaded_at >= _RELOAD_INTERVAL:
            await self.load(create_if_missing=False)

    async def sign(self, claims: dict[str, Any]) -> str:
        if self._signer is None or time.monotonic() - self._loaded_at >= _SIGNING_KEY_REFRESH:
            # Only a read: the request signing may hold SQLite's write lock, which a second writer would await.
            await self.load(create_if_missing=self._signer is None)
        assert self._signer is not None
        return jwt.encode(
            claims, self._signer.key, algorithm=ALGORITHM, headers={"kid": self._signer.kid, "typ": "at+jwt"}
        )

    async def verifier(self, kid: str) -> Ed25519PublicKey | None:
        if kid not in self._verifiers or time.monotonic() - self._loaded_at >= _SIGNING_KEY_REFRESH:
            await self._reload_soon()
        return self._verifiers.get(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": list(self._jwks)}
