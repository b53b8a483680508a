"""The canonical key of an email address: one account per key, and every lookup by email goes through it.

Two spellings are the same identity when their keys are equal: the local part and the domain are
NFKC-normalized and case-folded (so ``Ärger``/``ärger``, a composed and a decomposed ``é``, and fullwidth
look-alikes (``\\uff41lice``) fold together), and the domain is then written in its IDNA ASCII form (UTS 46),
so ``bücher.test`` and ``xn--bcher-kva.test`` are one domain. The address shown stays as the user typed it.
"""

import unicodedata
from functools import lru_cache

import idna


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    """The domain's IDNA form, remembered: UTS 46 costs ~40 µs, and an import or a lookup sees few domains."""
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:  # not a domain IDNA accepts (the validator lets some internal names through): as folded
        return domain


def key_fragment(text: str) -> str:
    """A piece of an address (what a filter's ``co``/``sw``/``ew`` looks for) folded as keys are: NFKC and
    case-folded; its domain part is not made ASCII, since a piece need not be a whole domain."""
    return _folded(text)


def email_key(address: str) -> str:
    """The key ``address`` is looked up and kept unique by (any text; the domain part is what follows the last @)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return _folded(domain)
    return f"{_folded(local)}@{_ascii_domain(_folded(domain))}"
