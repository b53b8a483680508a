"""Failed sign-ins lock the account for growing waits and count per client IP; sign-in endpoints are rate limited.

Every refusal looks exactly like a wrong password. The clock of the lockout is moved by the tests.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis.asyncio
from sqlalchemy import select

from tenantry.auth import brute_force
from tenantry.core.credentials.lockout import LockoutRules, account_key
from tenantry.core.credentials.models import LoginFailure
from tenantry.runtime import Runtime
from tests.auth.conftest import MakeInstance
from tests.factories import PASSWORD, Tenant

TOKEN = "/api/v1/auth/token"
REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(brute_force, "utcnow", lambda: clock.now)
    return clock


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "password", "username": email, "password": password})


async def _locked_for(runtime: Runtime, email: str, clock: Clock) -> float:
    async with runtime.database.transaction(write=False) as session:
        row = await session.get(LoginFailure, account_key(email))
    return 0.0 if row is None or row.locked_until is None else (row.locked_until - clock.now).total_seconds()


def test_waits_grow_by_the_increment_per_round_of_failures_up_to_the_maximum() -> None:
    rules = LockoutRules(max_failures=30, increment_seconds=60, max_seconds=900, reset_seconds=43_200)
    assert [rules.wait_after(n) for n in (1, 29, 30, 31, 59, 60, 90, 450, 10_000)] == [
        0, 0, 60, 60, 60, 120, 180, 900, 900,
    ]  # fmt: skip


async def test_lockout_refuses_even_the_right_password_then_lifts(
    instance: MakeInstance, tenant: Tenant, clock: Clock
) -> None:
    app = await instance(login_max_failures=3, login_lockout_increment_seconds=60, login_lockout_max_seconds=150)
    client = await app.client()
    email = tenant.owner.email
    wrong = [await _sign_in(client, email, "wrong password") for _ in range(3)]
    locked = await _sign_in(client, email, PASSWORD)
    assert locked.status_code == 400
    assert locked.content == wrong[0].content  # the same answer as a wrong password
    assert await _locked_for(app.runtime, email, clock) == 60
    clock.advance(61)
    assert (await _sign_in(client, email, PASSWORD)).status_code == 200
    assert await _locked_for(app.runtime, email, clock) == 0  # success cleared the count


async def test_each_round_of_failures_waits_longer(instance: MakeInstance, tenant: Tenant, clock: Clock) -> None:
    app = await instance(login_max_failures=3, login_lockout_increment_seconds=60, login_lockout_max_seconds=150)
    client = await app.client()
    email = tenant.owner.email
    waits = []
    for _ in range(7):
        await _sign_in(client, email, "wrong password")
        waits.append(await _locked_for(app.runtime, email, clock))
        clock.advance(max(waits[-1], 0) + 1)
    # Failures 3-5 lock for 60 s, 6 for 120 s, 7 onwards at most 150 s.
    assert waits == [0, 0, 60, 60, 60, 120, 120]
    for _ in range(3):
        await _sign_in(client, email, "wrong password")
        clock.advance(await _locked_for(app.runtime, email, clock) + 1)
    await _sign_in(client, email, "wrong password")
    assert await _locked_for(app.runtime, email, clock) == 150


async def test_attempts_while_locked_are_not_counted(instance: MakeInstance, tenant: Tenant, clock: Clock) -> None:
    app = await instance(login_max_failures=2)
    client = await app.client()
    for _ in range(10):
        await _sign_in(client, tenant.owner.email, "wrong password")
    async with app.runtime.database.transaction(write=False) as session:
        row = await session.get(LoginFailure, account_key(tenant.owner.email))
    assert row is not None
    assert row.failures == 2


@pytest.mark.parametrize("login_name", ["owner", "nobody@example.com"])
async def test_a_burst_of_parallel_guesses_is_counted_like_the_same_guesses_in_turn(
    instance: MakeInstance, tenant: Tenant, login_name: str
) -> None:
    """Guesses for one login name are decided one at a time (PostgreSQL runs them side by side): once the
    lockout begins, the rest of the burst is refused uncounted, and none of it is evaluated past it."""
    app = await instance(login_max_failures=3)
    client = await app.client()
    email = tenant.owner.email if login_name == "owner" else login_name
    answers = await asyncio.gather(*(_sign_in(client, email, f"wrong guess {n}") for n in range(12)))
    assert {(answer.status_code, answer.content) for answer in answers} == {(400, answers[0].content)}
    async with app.runtime.database.transaction(write=False) as session:
        row = await session.get(LoginFailure, account_key(email))
    assert row is not None
    assert (row.failures, row.locked_until is not None) == (3, True)
    assert (await _sign_in(client, email, PASSWORD)).content == answers[0].content


async def test_the_count_restarts_after_the_reset_time(instance: MakeInstance, tenant: Tenant, clock: Clock) -> None:
    app = await instance(login_max_failures=3, login_failure_reset_seconds=3_600)
    client = await app.client()
    for _ in range(2):
        await _sign_in(client, tenant.owner.email, "wrong password")
    clock.advance(3_601)
    for _ in range(2):
        await _sign_in(client, tenant.owner.email, "wrong password")
    assert await _locked_for(app.runtime, tenant.owner.email, clock) == 0
    assert (await _sign_in(client, tenant.owner.email, PASSWORD)).status_code == 200


async def test_unknown_accounts_are_counted_like_known_ones(instance: MakeInstance, clock: Clock) -> None:
    app = await instance(login_max_failures=3)
    client = await app.client()
    for _ in range(3):
        await _sign_in(client, "Nobody@Example.com", "wrong password")
    assert await _locked_for(app.runtime, "nobody@example.com", clock) == 60
    async with app.runtime.database.transaction(write=False) as session:
        keys = list(await session.scalars(select(LoginFailure.account_key)))
    assert keys == [account_key("nobody@example.com")]  # a digest: the login name itself is not kept


async def test_a_client_ip_that_fails_too_often_is_refused(instance: MakeInstance, tenant: Tenant) -> None:
    app = await instance(login_ip_max_failures=3)
    attacker, colleague = await app.client("203.0.113.7"), await app.client("198.51.100.1")
    wrong = [await _sign_in(attacker, f"guess{i}@example.com", "wrong password") for i in range(3)]
    refused = await _sign_in(attacker, tenant.owner.email, PASSWORD)
    assert refused.status_code == 400
    assert refused.content == wrong[0].content
    assert (await _sign_in(colleague, tenant.owner.email, PASSWORD)).status_code == 200


async def test_a_client_over_its_failure_limit_costs_no_hash(
    instance: MakeInstance, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await instance(login_ip_max_failures=3)
    attacker = await app.client("203.0.113.8")
    for i in range(3):
        await _sign_in(attacker, f"guess{i}@example.com", "wrong password")
    passwords = app.runtime.passwords
    hashed: list[bool] = []
    verify_sync = passwords._verify_sync

    def counted(password_hash: str, password: str, real: bool) -> bool:
        hashed.append(real)
        return verify_sync(password_hash, password, real)

    monkeypatch.setattr(passwords, "_verify_sync", counted)
    for _ in range(5):
        assert (await _sign_in(attacker, tenant.owner.email, PASSWORD)).status_code == 400
        assert (await _sign_in(attacker, "nobody@example.com", "wrong password")).status_code == 400
    assert hashed == []


async def test_ipv6_clients_are_counted_per_64_network(instance: MakeInstance, tenant: Tenant) -> None:
    app = await instance(login_ip_max_failures=2)
    for host in ("2001:db8:1:2::a", "2001:db8:1:2::b"):
        await _sign_in(await app.client(host), "guess@example.com", "wrong password")
    assert (await _sign_in(await app.client("2001:db8:1:2::c"), tenant.owner.email, PASSWORD)).status_code == 400
    assert (await _sign_in(await app.client("2001:db8:1:3::c"), tenant.owner.email, PASSWORD)).status_code == 200


async def test_the_token_endpoint_is_rate_limited_per_client(instance: MakeInstance) -> None:
    app = await instance(auth_rate_limit="3/minute")
    client, other = await app.client("203.0.113.7"), await app.client("198.51.100.1")
    answers = [await _sign_in(client, "a@example.com", "x") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]
    limited = answers[-1]
    assert limited.json()["type"] == "urn:tenantry:problem:rate-limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert (await _sign_in(other, "a@example.com", "x")).status_code == 400


async def test_an_unreachable_redis_lets_requests_through(instance: MakeInstance, tenant: Tenant) -> None:
    app = await instance(redis_url="redis://127.0.0.1:1/0", auth_rate_limit="1/minute", login_ip_max_failures=1)
    client = await app.client()
    assert (await _sign_in(client, tenant.owner.email, "wrong password")).status_code == 400
    assert (await _sign_in(client, tenant.owner.email, PASSWORD)).status_code == 200


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own in the shared Redis, deleted afterwards."""
    connection = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        await connection.ping()
    except redis.RedisError:
        await connection.aclose()
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"tenantry-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = [key async for key in connection.scan_iter(match=f"{prefix}*")]
    if keys:
        await connection.delete(*keys)
    await connection.aclose()


async def test_instances_sharing_redis_share_rate_limits(instance: MakeInstance, redis_prefix: str) -> None:
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix, "auth_rate_limit": "3/minute"}
    first, second = await (await instance(**shared)).client(), await (await instance(**shared)).client()
    answers = [await _sign_in(client, "a@example.com", "x") for client in (first, second, first, second)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]


async def test_instances_sharing_redis_share_failure_counts(
    instance: MakeInstance, redis_prefix: str, tenant: Tenant
) -> None:
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix, "login_ip_max_failures": 2}
    first, second = await (await instance(**shared)).client(), await (await instance(**shared)).client()
    await _sign_in(first, "guess@example.com", "wrong password")
    await _sign_in(second, "guess@example.com", "wrong password")
    assert (await _sign_in(first, tenant.owner.email, PASSWORD)).status_code == 400
    alone = await (await instance(login_ip_max_failures=2)).client()
    assert (await _sign_in(alone, tenant.owner.email, PASSWORD)).status_code == 200
