"""TOTP codes (RFC 6238): 6 digits, 30-second steps, SHA-1 (what every authenticator app speaks).

A code is accepted for the current step and one step either side (clock drift); the caller keeps the
step a code was accepted for, so that neither that code nor an older one is accepted again.
"""

import hmac
import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1


def now() -> float:
    """The current time (tests move it)."""
    return time.time()


def new_secret() -> str:
    """160 random bits, base32 (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, at: float) -> int | None:
    """The time step ``code`` belongs to, among the current one and its neighbours; None: no match.

    Every candidate is compared (in constant time), whichever matches.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(at // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            found = step
    return found
