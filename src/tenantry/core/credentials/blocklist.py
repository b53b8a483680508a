"""The shipped list of commonly used passwords (see ``data/NOTICE`` for its origin), loaded once."""

from functools import cache
from importlib import resources


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("tenantry.core.credentials").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def is_common(lowered_password: str) -> bool:
    """True when the (lower-cased) password is on the list."""
    return lowered_password in common_passwords()
