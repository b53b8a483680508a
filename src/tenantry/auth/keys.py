"""Signing keys, kept in the database, published as a JWKS: Ed25519 (EdDSA) signs access tokens, RSA
(RS256, what OpenID Connect requires every relying party to support) signs ID tokens.

Every process keeps the keys in memory and reads them again before it signs, verifies (a token it verified
before included) or publishes them once they are a minute old (``REFRESH_SECONDS``), and at once (at most
once a second) for a token with a ``kid`` it has not seen. So a key retired by ``tenantry keys retire``
stops verifying, and leaves the JWKS, within a minute everywhere, without a restart.

Every key not yet retired verifies. A new key signs only once every process publishes it (``signing_key``):
the previous key keeps signing meanwhile, so no process signs with a key another's JWKS does not list yet
(a relying party fetches the JWKS from whichever process it reaches). Retire a key only once the tokens it
signed have expired (``retire`` checks it).
"""

import asyncio
import base64
import time
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.tokens.models import SigningKey
from tenantry.db.base import utcnow
from tenantry.db.engine import Database
from tenantry.errors import Conflict, NotFound

ALGORITHM = "EdDSA"
RS256 = "RS256"
ALGORITHMS = (ALGORITHM, RS256)
_RSA_BITS = 2048
_RELOAD_INTERVAL = 1.0
REFRESH_SECONDS = 60.0
"""The oldest the keys a process signs, verifies and publishes with may be."""
PUBLISH_SECONDS = REFRESH_SECONDS + 30.0
"""How old a new key is when it starts signing: every process has read it (and publishes it) by then; the margin
covers a read under way and clocks a little apart."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def new_signing_key(algorithm: str = ALGORITHM) -> SigningKey:
    private: Ed25519PrivateKey | rsa.RSAPrivateKey
    if algorithm == RS256:
        private = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    else:
        private = Ed25519PrivateKey.generate()
        raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw_public)}
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(algorithm=algorithm, private_key_pem=pem, public_jwk={**jwk, "alg": algorithm, "use": "sig"})


async def live_keys(session: AsyncSession, algorithm: str | None = None) -> list[SigningKey]:
    statement = select(SigningKey).where(SigningKey.retired_at.is_(None))
    if algorithm is not None:
        statement = statement.where(SigningKey.algorithm == algorithm)
    return list(await session.scalars(statement.order_by(SigningKey.created_at, SigningKey.id)))


async def all_keys(session: AsyncSession) -> list[SigningKey]:
    return list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)))


def signs_from(key: SigningKey) -> datetime:
    """When ``key`` may start signing: once every process publishes it."""
    return key.created_at + timedelta(seconds=PUBLISH_SECONDS)


def signing_key(live: list[SigningKey], algorithm: str, now: datetime) -> SigningKey | None:
    """The live key of ``algorithm`` (``live`` oldest first) that signs at ``now``: the newest one made at least
    ``PUBLISH_SECONDS`` earlier; none is on a new database, or once a leaked key was retired with ``--force``
    soon after the rotation: then the oldest (there is only one, unless rotated again), at once."""
    of_algorithm = [row for row in live if row.algorithm == algorithm]
    published = [row for row in of_algorithm if signs_from(row) <= now]
    return published[-1] if published else next(iter(of_algorithm), None)


async def rotate(session: AsyncSession, algorithm: str = ALGORITHM) -> SigningKey:
    """Add a signing key: it signs once every process publishes it (``PUBLISH_SECONDS``); until then the previous
    key signs. Older keys keep verifying."""
    key = new_signing_key(algorithm)
    session.add(key)
    await session.flush()
    return key


async def retire(session: AsyncSession, kid: str, *, token_lifetime: timedelta, force: bool = False) -> SigningKey:
    """Stop a key verifying. Refused for the newest key (it signs, or soon will), and, unless ``force``d, while
    tokens it signed may still be valid: the last of them expires ``token_lifetime`` after its successor started
    signing. Forced (the key leaked), it stops signing at once: ``signing_key`` picks among the keys left, the
    successor when it is the only one."""
    key = next((row for row in await live_keys(session) if row.id == kid), None)
    if key is None:
        raise NotFound(f"no live signing key {kid!r}")
    live = await live_keys(session, key.algorithm)
    if key is live[-1]:
        raise Conflict("this key signs tokens, or soon will: rotate first, then retire it once its tokens have expired")
    successor = live[live.index(key) + 1]
    safe_from = signs_from(successor) + token_lifetime
    if not force and utcnow() < safe_from:
        raise Conflict(f"tokens signed with this key may be valid until {safe_from.isoformat()}; wait or force")
    key.retired_at = utcnow()
    await session.flush()
    return key


PublicKey = Ed25519PublicKey | rsa.RSAPublicKey


class KeyRing:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._keys: list[SigningKey] = []
        self._private: dict[str, Ed25519PrivateKey | rsa.RSAPrivateKey] = {}
        self._verifiers: dict[str, PublicKey] = {}
        self._jwks: list[dict[str, Any]] = []
        self._loaded_at = 0.0
        self._reading: asyncio.Future[None] | None = None
        self.verified: dict[str, tuple[Any, float]] = {}
        """Claims of tokens whose signature these keys verified, with when they stop being valid: a small cache
        kept by ``access_tokens.verify`` (which calls ``refresh_if_due`` first) and emptied whenever the keys are
        (re)loaded."""

    async def load(self, *, create_if_missing: bool = True) -> None:
        async with self._database.transaction(write=create_if_missing) as session:
            keys = await live_keys(session)
            missing = set(ALGORITHMS) - {row.algorithm for row in keys}
            if missing and create_if_missing:
                session.add_all(new_signing_key(algorithm) for algorithm in sorted(missing))
                await session.flush()
                keys = await live_keys(session)
        self._install(keys)

    def _install(self, keys: list[SigningKey]) -> None:
        private: dict[str, Ed25519PrivateKey | rsa.RSAPrivateKey] = {}
        for row in keys:
            key = serialization.load_pem_private_key(row.private_key_pem.encode(), password=None)
            assert isinstance(key, Ed25519PrivateKey | rsa.RSAPrivateKey)
            private[row.id] = key
        self._keys = keys
        self._private = private
        self._verifiers = {kid: key.public_key() for kid, key in private.items()}
        self._jwks = [{**row.public_jwk, "kid": row.id} for row in keys]
        self._loaded_at = time.monotonic()
        self.verified.clear()  # a token verified with a key since retired must be checked again

    async def refresh_if_due(self) -> None:
        """Read the keys again if they are ``REFRESH_SECONDS`` old. Whoever needs them meanwhile waits for that
        one read (a few milliseconds once a minute): nothing is signed, verified (from the cache either) or
        published with keys older than that."""
        if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
            await self._read_again()

    async def _read_again(self) -> None:
        if self._reading is None:
            reading = asyncio.ensure_future(self.load(create_if_missing=False))
            reading.add_done_callback(self._read)
            self._reading = reading
        await asyncio.shield(self._reading)  # a caller that gives up does not cancel the others' read

    def _read(self, reading: asyncio.Future[None]) -> None:
        self._reading = None
        if not reading.cancelled():
            reading.exception()  # (every waiter gets it; retrieved here in case none is left to)

    async def sign(self, claims: dict[str, Any], *, algorithm: str = ALGORITHM, typ: str = "at+jwt") -> str:
        """Sign with the key of ``algorithm`` that signs now (``signing_key``): EdDSA access tokens by default,
        RS256 ID tokens."""
        if not any(row.algorithm == algorithm for row in self._keys):
            await self.load()
        else:  # only a read: the request signing may hold SQLite's write lock, which a second writer would await
            await self.refresh_if_due()
        signer = signing_key(self._keys, algorithm, utcnow())
        assert signer is not None  # (loaded, or made, above)
        return jwt.encode(claims, self._private[signer.id], algorithm=algorithm, headers={"kid": signer.id, "typ": typ})

    async def verifier(self, kid: str) -> PublicKey | None:
        await self.refresh_if_due()
        if kid not in self._verifiers and time.monotonic() - self._loaded_at >= _RELOAD_INTERVAL:
            await self._read_again()
        return self._verifiers.get(kid)

    async def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys of every key not retired, as this process last read them (at most a minute ago)."""
        await self.refresh_if_due()
        return {"keys": list(self._jwks)}
