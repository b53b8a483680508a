"""Hashes imported from other systems verify, are bounded, and are re-hashed to argon2id."""

import base64
import hashlib

import argon2
import bcrypt
import pytest

from tenantry.core.credentials import hashes
from tenantry.core.credentials.passwords import Passwords
from tenantry.settings import Settings

PASSWORD = "Tr0ub4dor&3 correct"


def _ab64(raw: bytes) -> str:
    """passlib's adapted base64: '.' for '+', no padding."""
    return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")


def _pbkdf2(digest: str, rounds: int, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac(digest, PASSWORD.encode(), salt, rounds)


SALT = b"0123456789abcdef"
IMPORTED = {
    "bcrypt": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
    "pbkdf2-sha256 (passlib)": f"$pbkdf2-sha256$1000${_ab64(SALT)}${_ab64(_pbkdf2('sha256', 1000, SALT))}",
    "pbkdf2-sha512 (PHC)": f"$pbkdf2-sha512$i=1000${_ab64(SALT)}${_ab64(_pbkdf2('sha512', 1000, SALT))}",
    "pbkdf2-sha256 (Django)": "pbkdf2_sha256$1000$plainsalt$"
    + base64.b64encode(hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"plainsalt", 1000)).decode(),
    "scrypt (passlib)": f"$scrypt$ln=10,r=8,p=1${_ab64(SALT)}$"
    + _ab64(hashlib.scrypt(PASSWORD.encode(), salt=SALT, n=1024, r=8, p=1, dklen=32)),
    "argon2i": argon2.low_level.hash_secret(
        PASSWORD.encode(), SALT, time_cost=1, memory_cost=64, parallelism=1, hash_len=16, type=argon2.Type.I
    ).decode(),
}


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(Settings(argon2_time_cost=1, argon2_memory_kib=1024))


@pytest.mark.parametrize("kind", sorted(IMPORTED))
async def test_imported_hash_verifies_and_asks_for_a_rehash(passwords: Passwords, kind: str) -> None:
    imported = IMPORTED[kind]
    assert await passwords.verify(imported, PASSWORD)
    assert not await passwords.verify(imported, PASSWORD + "x")
    assert passwords.needs_rehash(imported)


def test_schemes_are_recognised() -> None:
    assert {hashes.scheme_of(value) for value in IMPORTED.values()} == {
        "bcrypt",
        "pbkdf2-sha256",
        "pbkdf2-sha512",
        "scrypt",
        "argon2i",
    }


async def test_bcrypt_compares_the_first_72_bytes_as_bcrypt_did(passwords: Passwords) -> None:
    long_password = "x" * 100
    imported = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert await passwords.verify(imported, long_password)


@pytest.mark.parametrize(
    "value",
    [
        "plaintext",
        "$1$md5crypt$hash",
        "$2b$31$" + "a" * 53,
        f"$pbkdf2-sha256$99999999${_ab64(SALT)}${_ab64(b'x' * 32)}",
        f"$scrypt$ln=30,r=8,p=1${_ab64(SALT)}${_ab64(b'x' * 32)}",
        "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$pbkdf2-sha256$1000$salt$not*base64",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$AAAA\x00" + "B" * 39,  # only the digest's length was checked
        "pbkdf2_sha256$1000$sälz$" + "A" * 44,
    ],
)
def test_unsupported_or_too_costly_hashes_are_refused(value: str) -> None:
    with pytest.raises(hashes.UnsupportedHash):
        hashes.scheme_of(value)
    assert not hashes.verify(value, PASSWORD)
