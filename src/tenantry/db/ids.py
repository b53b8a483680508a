"""Identifiers: 24 lowercase hex characters, time-ordered (4 bytes of seconds, 8 random bytes).

The shape of a MongoDB ObjectId, so every dialect (akinon included) accepts them.
"""

import re
import secrets
import time

ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")


def stamp() -> str:
    """An id's first 8 characters: the current second."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}"


def new_id() -> str:
    return stamp() + secrets.token_hex(8)


def new_ids(count: int) -> list[str]:
    """``count`` ids as ``new_id`` makes them, from one read of the OS's randomness (a bulk import's)."""
    now, random = stamp(), secrets.token_hex(8 * count)
    return [now + random[start : start + 16] for start in range(0, 16 * count, 16)]


def is_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None
