"""Secrets kept at rest (TOTP secrets, webhook signing secrets), encrypted with ``TENANTRY_SECRET_KEY``
(Fernet: AES-128-CBC + HMAC).

The setting holds one or more keys, comma-separated: the first encrypts, every one decrypts, so a key is
rotated by putting the new one first, running ``tenantry keys reseal`` (which seals every stored secret
with the new key), then dropping the old one. A secret sealed with an older key is also sealed again when used.
"""

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tenantry.errors import Conflict
from tenantry.settings import Settings


class NoSecretKey(Conflict):
    """The server has no ``TENANTRY_SECRET_KEY``: secrets cannot be stored."""

    def __init__(self) -> None:
        super().__init__(
            "this server has no TENANTRY_SECRET_KEY, so it cannot store secrets (second factors, webhooks)"
        )


@dataclass(frozen=True)
class Opened:
    plaintext: str
    resealed: str | None
    """The secret sealed with the current key, when it was sealed with an older one."""


def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.strip().encode()).digest()))


@lru_cache(maxsize=4)
def _keys(setting: str) -> tuple[Fernet, MultiFernet]:
    """The current key, and every key."""
    fernets = [_fernet(key) for key in setting.split(",")]
    return fernets[0], MultiFernet(fernets)


def _keys_of(settings: Settings) -> tuple[Fernet, MultiFernet]:
    if settings.secret_key is None:
        raise NoSecretKey()
    return _keys(settings.secret_key.get_secret_value())


def seal(settings: Settings, plaintext: str) -> str:
    return _keys_of(settings)[0].encrypt(plaintext.encode()).decode()


def open_sealed(settings: Settings, sealed: str) -> Opened:
    """The plaintext; a secret no configured key opens is an error of configuration (a dropped key)."""
    current, every = _keys_of(settings)
    try:
        plaintext = current.decrypt(sealed.encode()).decode()
    except InvalidToken:
        pass
    else:
        return Opened(plaintext, None)
    try:
        plaintext = every.decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise RuntimeError("a stored secret matches none of TENANTRY_SECRET_KEY's keys") from None
    return Opened(plaintext, seal(settings, plaintext))


def reseal(settings: Settings, rows: Iterable[object], attribute: str) -> int:
    """Seal again with the current key each secret in ``attribute`` of ``rows`` that an older key sealed (a row
    without one is skipped); how many changed. The rows are changed in place, for the caller's flush."""
    changed = 0
    for row in rows:
        sealed = getattr(row, attribute)
        if sealed is not None and (resealed := open_sealed(settings, sealed).resealed) is not None:
            setattr(row, attribute, resealed)
            changed += 1
    return changed
