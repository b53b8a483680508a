"""Read-only requests read a real PostgreSQL streaming replica; a caller that just wrote reads its write
from the primary (cookie, or its credential in this process); an account the replica does not know yet is
answered by the primary; a replica that is down leaves reads to the primary; a replica that lags past the
bound answers no read, so a revocation reaches reads within it; a pin cookie the service did not set pins
nobody."""

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from tenantry.db.engine import Database
from tenantry.web.replicas import PIN_COOKIE
from tests.conftest import BACKEND, settings_for
from tests.factories import PASSWORD
from tests.live_server import serve
from tests.pg_cluster import Cluster, binaries, streaming_replica, throwaway_cluster
from tests.web.test_database_away import SIGN_IN, _prepare

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql" or binaries() is None,
    reason="starts its own primary and streaming replica (the postgresql leg)",
)


@dataclass
class Pair:
    primary: Cluster
    replica: Cluster
    base: str


def _sql(cluster: Cluster, statement: str) -> object:
    async def run() -> object:
        connection = await asyncpg.connect(cluster.url)
        try:
            return await connection.fetchval(statement)
        finally:
            await connection.close()

    return asyncio.run(run())


def _caught_up(pair: Pair) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    target = _sql(pair.primary, "SELECT pg_current_wal_lsn()::text")
    for _ in range(500):
        if _sql(pair.replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            return
        asyncio.run(asyncio.sleep(0.02))
    raise AssertionError("the replica did not catch up")


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with throwaway_cluster() as primary:
        asyncio.run(_prepare(primary.url))
        with streaming_replica(primary) as replica:
            # A bound long enough for a paused replica to keep answering while a test looks at what it answers.
            settings = settings_for(
                primary.url,
                database_replica_urls=replica.url,
                database_replica_max_lag_seconds=60,
                db_connect_timeout_seconds=2,
            )
            with serve(settings) as base:
                yield Pair(primary, replica, base)


@contextmanager
def _replay_paused(pair: Pair, *, sampled_by: str | None = None) -> Iterator[None]:
    """The replica replays nothing in the block, once it has caught up (and, given ``sampled_by``, a token, once
    the server has sampled its lag by then: a read starts it, it takes milliseconds)."""
    _caught_up(pair)
    if sampled_by is not None:
        with httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {sampled_by}"}) as client:
            assert client.get("/api/v1/me").status_code == 200
        time.sleep(0.5)
    _sql(pair.replica, "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        _sql(pair.replica, "SELECT pg_wal_replay_resume()")


def _token(pair: Pair, username: str = "root@example.com", password: str = PASSWORD) -> str:
    with httpx.Client(base_url=pair.base) as client:
        answer = client.post("/api/v1/auth/token", data=SIGN_IN | {"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


def test_reads_go_to_the_replica_and_the_writer_reads_its_own_writes(pair: Pair) -> None:
    writer_token, reader_token = _token(pair), _token(pair)
    with (
        _replay_paused(pair, sampled_by=reader_token),
        httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {writer_token}"}) as writer,
        httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {reader_token}"}) as reader,
        httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {writer_token}"}) as cookieless,
    ):
        created = writer.post("/api/v1/orgs", json={"name": "Replicated", "slug": "replicated"})
        assert created.status_code == 201, created.text
        assert PIN_COOKIE in created.cookies
        # The writer's cookie sends its reads to the primary; so does its credential, without the cookie.
        assert writer.get("/api/v1/orgs/replicated").status_code == 200
        assert cookieless.get("/api/v1/orgs/replicated").status_code == 200
        # Another caller reads the replica, which has not replayed the write.
        assert reader.get("/api/v1/orgs/replicated").status_code == 404
        assert PIN_COOKIE not in reader.get("/api/v1/me").cookies  # reads pin nobody

        # An account newer than the replica: its first reads fail authentication there, the primary answers.
        user = writer.post("/api/v1/orgs/replicated/users", json={"email": "fresh@example.com", "password": PASSWORD})
        assert user.status_code == 201, user.text
        with httpx.Client(base_url=pair.base) as fresh:
            fresh.headers["Authorization"] = f"Bearer {_token(pair, 'fresh@example.com')}"
            me = fresh.get("/api/v1/me")
            assert me.status_code == 200, me.text
            assert me.json()["email"] == "fresh@example.com"
    _caught_up(pair)
    with httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {reader_token}"}) as reader:
        assert reader.get("/api/v1/orgs/replicated").status_code == 200


def test_a_forged_pin_cookie_pins_nobody(pair: Pair) -> None:
    writer_token, reader_token = _token(pair), _token(pair)
    with _replay_paused(pair, sampled_by=reader_token):
        with httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {writer_token}"}) as writer:
            assert writer.post("/api/v1/orgs", json={"name": "Pinned", "slug": "pinned"}).status_code == 201
        headers = {"Authorization": f"Bearer {reader_token}"}
        with httpx.Client(base_url=pair.base, headers=headers) as reader:
            assert reader.get("/api/v1/orgs/pinned").status_code == 404  # the replica answers
        # A pin's end later than a pin lasts (or not a number at all) is not one this service set: the replica
        # answers, which has not replayed the organization.
        for forged in ("9999999999", str(int(time.time()) + 3_600), "\u00b2", "9" * 5_000, "-1", ""):
            raw = {
                b"Authorization": headers["Authorization"].encode(),
                b"Cookie": f"{PIN_COOKIE}={forged}".encode("latin-1"),
            }
            answer = httpx.get(f"{pair.base}/api/v1/orgs/pinned", headers=raw)
            assert answer.status_code == 404, forged
        # One the service could have set pins its bearer to the primary.
        with httpx.Client(
            base_url=pair.base, headers=headers, cookies={PIN_COOKIE: str(int(time.time()) + 5)}
        ) as reader:
            assert reader.get("/api/v1/orgs/pinned").status_code == 200


_WAL_RECORD = text("SELECT pg_logical_emit_message(true, 'tenantry-test', 'lag')")
"""A write on the primary (a record in its WAL), with no table."""


def test_a_replica_that_keeps_up_answers_reads_and_one_past_the_lag_bound_does_not(pair: Pair) -> None:
    async def run() -> None:
        database = Database(pair.primary.url, replica_urls=[pair.replica.url], replica_max_lag_seconds=1)
        replica = database.replicas[0]
        try:
            # Replay running, the primary writing all along: once sampled (at once), reads keep to the replica.
            picks = []
            started = time.monotonic()
            while time.monotonic() - started < 3:
                async with database.transaction() as session:
                    await session.execute(_WAL_RECORD)
                picks.append((time.monotonic() - started, database.pick_replica()))
                await asyncio.sleep(0.02)
            assert all(picked is replica for at, picked in picks if at > 0.3), picks
            # Replay paused while the primary writes: past the bound, reads go to the primary.
            await _async_sql(pair.replica, "SELECT pg_wal_replay_pause()")
            try:
                async with database.transaction() as session:
                    await session.execute(_WAL_RECORD)
                started = time.monotonic()
                while time.monotonic() - started < 1.5:
                    database.pick_replica()
                    await asyncio.sleep(0.05)
                assert database.pick_replica() is None
            finally:
                await _async_sql(pair.replica, "SELECT pg_wal_replay_resume()")
            # Caught up again: the replica answers again.
            started = time.monotonic()
            while database.pick_replica() is not replica:
                assert time.monotonic() - started < 5, "the replica was not used again once it caught up"
                await asyncio.sleep(0.05)
        finally:
            await database.dispose()

    asyncio.run(run())


def test_a_server_that_is_not_a_standby_answers_no_read(pair: Pair) -> None:
    """Its lag cannot be measured (it replays no WAL): the primary itself, named as a replica, say."""

    async def run() -> None:
        database = Database(pair.primary.url, replica_urls=[pair.primary.url])
        try:
            started = time.monotonic()
            while time.monotonic() - started < 0.5:
                assert database.pick_replica() is None
                await asyncio.sleep(0.05)
        finally:
            await database.dispose()

    asyncio.run(run())


async def _async_sql(cluster: Cluster, statement: str) -> object:
    connection = await asyncpg.connect(cluster.url)
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


def test_revoked_credentials_and_removed_members_read_nothing_through_a_replica_past_the_lag_bound(
    pair: Pair,
) -> None:
    settings = settings_for(
        pair.primary.url,
        database_replica_urls=pair.replica.url,
        database_replica_max_lag_seconds=0.5,
        db_connect_timeout_seconds=2,
    )
    with serve(settings) as base, httpx.Client(base_url=base) as client:
        root = {"Authorization": f"Bearer {_token(pair)}"}
        assert client.post("/api/v1/orgs", json={"name": "Lagged", "slug": "lagged"}, headers=root).status_code == 201
        member_ids = {}
        for name in ("bob", "carol", "dave"):
            created = client.post(
                "/api/v1/orgs/lagged/users",
                json={"email": f"{name}@lagged.example", "password": PASSWORD, "roles": ["admin"]},
                headers=root,
            )
            assert created.status_code == 201, created.text
            member_ids[name] = created.json()["id"]
        key = client.post("/api/v1/orgs/lagged/api-keys", json={"name": "reader", "roles": ["admin"]}, headers=root)
        assert key.status_code == 201, key.text
        bob = {"Authorization": f"Bearer {_token(pair, 'bob@lagged.example')}"}
        carol = {"Authorization": f"Bearer {_token(pair, 'carol@lagged.example')}"}
        dave = {"Authorization": f"Bearer {_token(pair, 'dave@lagged.example')}"}
        api_key = {"x-api-key": key.json()["key"]}
        users = "/api/v1/orgs/lagged/users"
        callers = (bob, carol, dave, api_key)
        for caller in callers:
            assert httpx.get(base + users, headers=caller).status_code == 200
        with _replay_paused(pair):
            removed = client.delete(f"{users}/{member_ids['bob']}", headers=root)
            assert removed.status_code == 204, removed.text
            assert httpx.post(base + "/api/v1/me/sessions/revoke", headers=carol).status_code == 204
            disabled = client.post(f"{users}/{member_ids['dave']}/disable", headers=root)
            assert disabled.status_code == 200, disabled.text
            revoked = client.delete(f"/api/v1/orgs/lagged/api-keys/{key.json()['id']}", headers=root)
            assert revoked.status_code == 204, revoked.text
            time.sleep(1)  # past the bound: the paused replica has not replayed any of it
            # Each caller without a pin (a fresh client, another credential than the writer's) is answered as the
            # primary answers it (where a pin sends it).
            on_primary = {PIN_COOKIE: str(int(time.time()) + 5)}
            for caller in callers:
                answer = httpx.get(base + users, headers=caller).status_code
                assert answer in (401, 403, 404), caller
                assert answer == httpx.get(base + users, headers=caller, cookies=on_primary).status_code


def test_a_replica_that_is_down_leaves_reads_to_the_primary(pair: Pair) -> None:
    token = _token(pair)
    with httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {token}"}) as client:
        pair.replica.stop()
        try:
            for _ in range(3):
                answer = client.get("/api/v1/me")
                assert answer.status_code == 200, answer.text
        finally:
            pair.replica.start()
