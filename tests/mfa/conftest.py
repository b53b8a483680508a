"""Second factors for tests: enrol an authenticator app over the API; codes come from pyotp at a chosen time."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pyotp
import pytest

from tenantry.core.mfa import totp
from tests.auth.conftest import instance
from tests.factories import PASSWORD, bearer
from tests.mailbox import mailbox

__all__ = ["instance", "mailbox"]

TOKEN = "/api/v1/auth/token"
OTP_GRANT = "urn:tenantry:params:oauth:grant-type:mfa-otp"
RECOVERY_GRANT = "urn:tenantry:params:oauth:grant-type:mfa-recovery-code"


class TotpClock:
    """The time TOTP checks see; it starts at a step boundary and only moves when told."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 30 * 30)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def totp_clock(monkeypatch: pytest.MonkeyPatch) -> TotpClock:
    clock = TotpClock()
    monkeypatch.setattr(totp, "now", lambda: clock.now)
    return clock


@dataclass
class Authenticator:
    """What the user's authenticator app and their printed recovery codes hold."""

    secret: str
    recovery_codes: list[str]
    code_at: Callable[[float], str]
    """The code the app shows at a time."""


async def enrol(client: httpx.AsyncClient, token: str, clock: TotpClock) -> Authenticator:
    started = await client.post("/api/v1/me/mfa/totp", headers=bearer(token))
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    otp = pyotp.TOTP(secret)
    confirmed = await client.post(
        "/api/v1/me/mfa/totp/confirm", json={"code": otp.at(clock.now)}, headers=bearer(token)
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(30)  # the confirming code's step is used up
    return Authenticator(secret, confirmed.json()["recovery_codes"], otp.at)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "password", "username": email, "password": password})


async def answer(client: httpx.AsyncClient, mfa_token: str, otp: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": OTP_GRANT, "mfa_token": mfa_token, "otp": otp})


async def two_factor_auth(
    client: httpx.AsyncClient, email: str, authenticator: Authenticator, clock: TotpClock
) -> dict[str, str]:
    """The headers of a token whose sign-in proved the app's code too (it may change the account's factors)."""
    challenge = (await sign_in(client, email)).json()["mfa_token"]
    answered = await answer(client, challenge, authenticator.code_at(clock.now))
    assert answered.status_code == 200, answered.text
    clock.advance(30)
    return bearer(answered.json()["access_token"])


async def recover(client: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": RECOVERY_GRANT, "mfa_token": mfa_token, "recovery_code": code})


class Held:
    """The first call of ``owner.name`` stops after it answered, until released: a transaction paused between
    what it read and what it writes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        original = getattr(owner, name)
        self._reached, self._go, calls = asyncio.Event(), asyncio.Event(), []

        async def held(*args: object, **kwargs: object) -> object:
            answered = await original(*args, **kwargs)
            calls.append(name)
            if len(calls) == 1:
                self._reached.set()
                await self._go.wait()
            return answered

        monkeypatch.setattr(owner, name, held)

    async def reached(self) -> None:
        await asyncio.wait_for(self._reached.wait(), 10)

    def release(self) -> None:
        self._go.set()
