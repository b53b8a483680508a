"""Read-only requests read a real PostgreSQL streaming replica; a caller that just wrote reads its write
from the primary (cookie, or its credential in this process); an account the replica does not know yet is
answered by the primary; a replica that is down leaves reads to the primary."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

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
            settings = settings_for(primary.url, database_replica_urls=replica.url, db_connect_timeout_seconds=2)
            with serve(settings) as base:
                yield Pair(primary, replica, base)


def _token(pair: Pair, username: str = "root@example.com", password: str = PASSWORD) -> str:
    with httpx.Client(base_url=pair.base) as client:
        answer = client.post("/api/v1/auth/token", data=SIGN_IN | {"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


def test_reads_go_to_the_replica_and_the_writer_reads_its_own_writes(pair: Pair) -> None:
    writer_token, reader_token = _token(pair), _token(pair)
    _caught_up(pair)
    _sql(pair.replica, "SELECT pg_wal_replay_pause()")
    try:
        with (
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
            user = writer.post(
                "/api/v1/orgs/replicated/users", json={"email": "fresh@example.com", "password": PASSWORD}
            )
            assert user.status_code == 201, user.text
            with httpx.Client(base_url=pair.base) as fresh:
                fresh.headers["Authorization"] = f"Bearer {_token(pair, 'fresh@example.com')}"
                me = fresh.get("/api/v1/me")
                assert me.status_code == 200, me.text
                assert me.json()["email"] == "fresh@example.com"
    finally:
        _sql(pair.replica, "SELECT pg_wal_replay_resume()")
    _caught_up(pair)
    with httpx.Client(base_url=pair.base, headers={"Authorization": f"Bearer {reader_token}"}) as reader:
        assert reader.get("/api/v1/orgs/replicated").status_code == 200


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
