"""Password hashes imported from other systems: recognise, bound, and verify them.

Accepted, so that users keep their passwords when an installation moves to Tenantry (the first
successful sign-in re-hashes with our argon2id parameters):

- argon2id / argon2i / argon2d, PHC form (``$argon2id$v=19$m=..,t=..,p=..$salt$hash``);
- bcrypt, modular crypt form (``$2a$``, ``$2b$``, ``$2y$``); passwords are cut at 72 bytes, as bcrypt did;
- PBKDF2-SHA256 / PBKDF2-SHA512: passlib's ``$pbkdf2-sha256$rounds$salt$hash`` (adapted base64), the
  PHC-style ``$pbkdf2-sha256$i=rounds$salt$hash``, and Django's ``pbkdf2_sha256$rounds$salt$hash``;
- scrypt: passlib's ``$scrypt$ln=..,r=..,p=..$salt$hash``.

Costs are bounded, so an imported hash cannot turn a sign-in into a denial of service.
"""

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache

import argon2
import bcrypt

from tenantry.i18n import N_

MAX_PBKDF2_ROUNDS = 5_000_000
MAX_BCRYPT_COST = 16
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
MAX_ARGON2_MEMORY_KIB = 256 * 1024
MAX_ARGON2_TIME = 16

_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_PBKDF2 = re.compile(r"^\$pbkdf2-(sha256|sha512)\$(?:i=)?(\d+)\$([^$]+)\$([^$]+)$")
_DJANGO_PBKDF2 = re.compile(r"^pbkdf2_(sha256|sha512)\$(\d+)\$([^$]+)\$([A-Za-z0-9+/=]+)$")
_SCRYPT = re.compile(r"^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$")


class UnsupportedHash(ValueError):
    """Not a hash Tenantry can verify, or one whose cost exceeds the bounds."""


def _b64(text: str) -> bytes:
    """Standard, URL-safe or passlib's adapted base64 ('.' for '+'), padded or not."""
    cleaned = text.replace(".", "+").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UnsupportedHash(N_("the salt or digest is not base64")) from None


@lru_cache(maxsize=256)
def _argon2_scheme(head: str, salt_length: int, digest_length: int) -> str:
    """An argon2 hash's scheme, checked: argon2 reads the salt and digest of a PHC string only for their lengths,
    so the verdict is worked out once per parameter string (an import's hashes share a few)."""
    try:
        parameters = argon2.extract_parameters(f"{head}${'a' * salt_length}${'a' * digest_length}")
    except argon2.exceptions.InvalidHashError:
        raise UnsupportedHash(N_("not a valid argon2 hash")) from None
    if parameters.memory_cost > MAX_ARGON2_MEMORY_KIB or parameters.time_cost > MAX_ARGON2_TIME:
        raise UnsupportedHash(N_("argon2 cost above the accepted bounds"))
    return f"argon2{parameters.type.name.lower()}"


def scheme_of(password_hash: str) -> str:
    """The hash's scheme after checking its form and bounds; raises UnsupportedHash otherwise."""
    if not (password_hash.isascii() and password_hash.isprintable()):  # (an argon2 salt went unchecked: a NUL passed)
        raise UnsupportedHash(N_("must be printable ASCII"))
    if password_hash.startswith("$argon2"):
        head, _, digest = password_hash.rpartition("$")
        head, _, salt = head.rpartition("$")
        return _argon2_scheme(head, len(salt), len(digest))
    if match := _BCRYPT.fullmatch(password_hash):
        if int(match.group(1)) > MAX_BCRYPT_COST:
            raise UnsupportedHash(f"bcrypt cost above {MAX_BCRYPT_COST}")
        return "bcrypt"
    if match := _PBKDF2.fullmatch(password_hash) or _DJANGO_PBKDF2.fullmatch(password_hash):
        if not 1 <= int(match.group(2)) <= MAX_PBKDF2_ROUNDS:
            raise UnsupportedHash(f"PBKDF2 rounds must be 1 to {MAX_PBKDF2_ROUNDS}")
        _b64(match.group(4))
        return f"pbkdf2-{match.group(1)}"
    if match := _SCRYPT.fullmatch(password_hash):
        log_n, r, p = (int(group) for group in match.group(1, 2, 3))
        if not (1 <= log_n <= 24 and 1 <= r <= 64 and 1 <= p <= 64) or 128 * r * (2**log_n) > MAX_SCRYPT_MEMORY:
            raise UnsupportedHash(N_("scrypt parameters out of the accepted bounds"))
        _b64(match.group(4))
        _b64(match.group(5))
        return "scrypt"
    raise UnsupportedHash(N_("unrecognised hash: use argon2, bcrypt, pbkdf2-sha256, pbkdf2-sha512 or scrypt"))


def verify(password_hash: str, password: str) -> bool:
    """Check ``password`` against an imported hash (blocking: call it off the event loop)."""
    try:
        scheme = scheme_of(password_hash)
    except UnsupportedHash:
        return False
    secret = password.encode()
    if scheme.startswith("argon2"):
        try:
            return argon2.PasswordHasher().verify(password_hash, password)
        except argon2.exceptions.VerificationError:
            return False
    if scheme == "bcrypt":
        return bcrypt.checkpw(secret[:72], password_hash.encode())
    if scheme.startswith("pbkdf2"):
        match = _PBKDF2.fullmatch(password_hash)
        if match is not None:
            digest, rounds, salt, expected = (
                match.group(1),
                int(match.group(2)),
                _b64(match.group(3)),
                _b64(match.group(4)),
            )
        else:
            django = _DJANGO_PBKDF2.fullmatch(password_hash)
            assert django is not None
            digest, rounds, salt = django.group(1), int(django.group(2)), django.group(3).encode()
            expected = _b64(django.group(4))
        actual = hashlib.pbkdf2_hmac(digest, secret, salt, rounds, dklen=len(expected))
        return hmac.compare_digest(actual, expected)
    match = _SCRYPT.fullmatch(password_hash)
    assert match is not None
    log_n, r, p = (int(group) for group in match.group(1, 2, 3))
    expected = _b64(match.group(5))
    actual = hashlib.scrypt(
        secret, salt=_b64(match.group(4)), n=2**log_n, r=r, p=p, maxmem=MAX_SCRYPT_MEMORY * 2, dklen=len(expected)
    )
    return hmac.compare_digest(actual, expected)
