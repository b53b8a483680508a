"""Webhook signing secrets: made, encrypted at rest, and used to sign (Standard Webhooks 1.0).

A secret signs every delivery, so it must be recoverable: it is stored encrypted (Fernet: AES-128-CBC
with HMAC-SHA256) under keys derived from ``TENANTRY_SECRET_KEY``. That setting may hold several keys,
comma-separated: the first encrypts, each decrypts, so a key is replaced by putting the new one first
and dropping the old one once every endpoint's secret has been rotated.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tenantry.errors import Conflict

PREFIX = "whsec_"
SECRET_BYTES = 32


class SecretKeyMissing(Conflict):
    def __init__(self) -> None:
        super().__init__("webhooks need TENANTRY_SECRET_KEY: set it to a long random string (see docs/events.md)")


class SecretBox:
    """Encrypts and decrypts signing secrets; unusable (every call raises) without a configured key."""

    def __init__(self, keys: str | None) -> None:
        parts = [part.strip() for part in (keys or "").split(",") if part.strip()]
        derived = [Fernet(base64.urlsafe_b64encode(hashlib.sha256(part.encode()).digest())) for part in parts]
        self._fernet = MultiFernet(derived) if derived else None

    def _cipher(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretKeyMissing()
        return self._fernet

    def seal(self, secret: str) -> str:
        return self._cipher().encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._cipher().decrypt(sealed.encode("ascii")).decode()
        except InvalidToken as error:
            raise SecretKeyMissing() from error


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the secret's bytes as the key."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
