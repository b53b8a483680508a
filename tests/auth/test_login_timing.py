"""No timing oracle: signing in as an unknown email takes as long as a known email with a wrong password.

Production argon2id parameters; the two kinds of attempt alternate, so that load from other processes
falls on both alike; medians are compared, generously.
"""

import statistics
import time

import httpx
import pytest

from tests.auth.conftest import MakeInstance
from tests.factories import PASSWORD, Tenant

pytestmark = pytest.mark.serial  # alone, after the parallel run: other tests' load would skew the medians

ATTEMPTS = 200
TOLERANCE = 0.25


async def _timed(client: httpx.AsyncClient, email: str) -> tuple[float, bytes]:
    fields = {"grant_type": "password", "username": email, "password": "not the password"}
    started = time.perf_counter()
    response = await client.post("/api/v1/auth/token", data=fields)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    return elapsed, response.content


async def test_unknown_and_known_accounts_answer_alike_and_in_the_same_time(
    instance: MakeInstance, tenant: Tenant
) -> None:
    app = await instance(
        argon2_time_cost=2,
        argon2_memory_kib=19_456,
        login_max_failures=1_000_000,
        login_ip_max_failures=1_000_000,
        auth_rate_limit="",
    )
    client = await app.client()
    created = await client.post(
        tenant.path("/users"), json={"email": "known@example.com", "password": PASSWORD}, headers=tenant.auth
    )
    assert created.status_code == 201  # hashed by this instance: production parameters
    timings: dict[str, list[float]] = {"known@example.com": [], "unknown@example.com": []}
    bodies: set[bytes] = set()
    for attempt in range(ATTEMPTS):
        pair = list(timings) if attempt % 2 else list(reversed(timings))
        for email in pair:
            elapsed, body = await _timed(client, email)
            timings[email].append(elapsed)
            bodies.add(body)
    known, unknown = (statistics.median(values) for values in timings.values())
    print(f"login timing over {ATTEMPTS} attempts each: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert len(bodies) == 1
    assert max(known, unknown) <= (1 + TOLERANCE) * min(known, unknown)
