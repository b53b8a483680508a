"""Which database a read-only unit of work reads: a streaming replica, unless the caller wrote lately.

Read-your-writes: a unit of work that committed a write pins its caller to the primary for
``TENANTRY_DATABASE_PRIMARY_PIN_SECONDS``, in two ways, so that a caller never reads older data than it
just wrote whichever process serves it next:

- the answer sets the cookie ``tenantry_primary_until`` (the pin's end, Unix seconds): browsers and HTTP
  clients that keep cookies send it back, and every process honours it;
- this process remembers a digest of the credential the write presented (``Authorization`` or
  ``x-api-key``), for clients that keep no cookies and come back to the same process.

The cookie is not signed: a pin's end later than a pin lasts is not one this service set (a client pinning
itself to the primary for good), and pins nobody. A client that writes a plausible end into every request
stays on the primary, as one that writes something every pin's length would: reads are routed, not granted.

A read that fails authentication on a replica (an account or session newer than the replica) is answered
from the primary instead, a replica that cannot be reached is left alone for a while (reads go to
the primary; ``db.engine.Replica``), and one that lags past the bound answers no read (``db.replica_lag``).
With no replica configured nothing here runs and no cookie is set.
"""

import hashlib
import math
import time

from fastapi import Request, Response

from tenantry.db.engine import Database, Replica

PIN_COOKIE = "tenantry_primary_until"


def _credential_key(request: Request) -> str | None:
    credential = request.headers.get("authorization") or request.headers.get("x-api-key")
    return hashlib.sha256(credential.encode()).hexdigest() if credential else None


_CLOCK_SLACK_SECONDS = 2
"""How much later than a pin lasts its end may be (the end is rounded up, and processes' clocks differ a little)."""


def _cookie_pinned(request: Request, pin_seconds: float) -> bool:
    until = request.cookies.get(PIN_COOKIE, "")
    if not (until.isascii() and until.isdigit() and len(until) <= 12):
        return False
    left = int(until) - time.time()
    return 0 < left <= pin_seconds + _CLOCK_SLACK_SECONDS


def replica_for(request: Request, database: Database) -> Replica | None:
    """The replica this read-only request reads, or None for the primary."""
    if not database.replicas or _cookie_pinned(request, database.pins.seconds):
        return None
    key = _credential_key(request)
    if key is not None and database.pins.pinned(key):
        return None
    return database.pick_replica()


def remember_write(request: Request, response: Response, database: Database) -> None:
    """After a committed write: pin the caller to the primary (by cookie, and by credential in this process)."""
    if not database.replicas:
        return
    key = _credential_key(request)
    seconds = database.pins.seconds
    deadline = database.pins.pin(key) if key is not None else time.time() + seconds
    response.set_cookie(
        PIN_COOKIE,
        str(math.ceil(deadline)),
        max_age=math.ceil(seconds),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
