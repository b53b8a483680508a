"""A database that is away answers 503 with ``Retry-After`` within seconds, on every surface in its own error
shape, and the service recovers on its own; a read whose connection was killed is tried once more."""

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tenantry.app import build_runtime
from tenantry.db import migrate
from tenantry.db.engine import Database
from tests.conftest import BACKEND, settings_for
from tests.factories import make_platform_admin
from tests.live_server import serve
from tests.pg_cluster import Cluster, binaries, throwaway_cluster

ORG = "0123456789abcdef01234567"
# (path, the media type of the surface's error body)
READS = [
    ("/api/v1/me", "application/problem+json"),
    (f"/scim/v2/{ORG}/Users", "application/scim+json"),
    (f"/compat/telm/api/auth/auth/{ORG}/users", "application/json"),
    (f"/compat/eva/eva-user/org/{ORG}/users", "application/json"),
    (f"/compat/akinon/organizations/{ORG}/users", "application/json"),
    (f"/compat/saleschat/v1/org/{ORG}/user", "application/json"),
]
SIGN_IN = {"grant_type": "password", "username": "root@example.com", "password": "correct horse battery staple"}

needs_cluster = pytest.mark.skipif(
    BACKEND != "postgresql" or binaries() is None, reason="starts its own PostgreSQL cluster (the postgresql leg)"
)


async def _prepare(url: str) -> None:
    database = Database(url)
    await migrate.upgrade(database)
    runtime = build_runtime(settings_for(url), database)
    await runtime.keyring.load()
    await make_platform_admin(runtime)
    await database.dispose()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as started:
        yield started


@pytest.fixture
def live(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A live server on the throwaway cluster, a client and a signed-in platform admin's headers."""
    asyncio.run(_prepare(cluster.url))
    with serve(settings_for(cluster.url, db_connect_timeout_seconds=2)) as base, httpx.Client(base_url=base) as client:
        token = client.post("/api/v1/auth/token", data=SIGN_IN).json()["access_token"]
        yield client, {"Authorization": f"Bearer {token}"}


def _assert_unavailable(answer: httpx.Response, media_type: str, started: float) -> None:
    assert answer.status_code == 503, (answer.request.url.path, answer.text)
    assert answer.headers["retry-after"].isdigit()
    assert answer.headers["content-type"].startswith(media_type), answer.request.url.path
    assert time.monotonic() - started < 5


@needs_cluster
def test_a_stopped_postgresql_answers_503_with_retry_after_on_every_surface_and_recovers(
    cluster: Cluster, live: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, admin = live
    assert client.get("/api/v1/me", headers=admin).status_code == 200
    cluster.stop()
    for path, media_type in READS:
        started = time.monotonic()
        _assert_unavailable(client.get(path, headers=admin), media_type, started)
    started = time.monotonic()
    _assert_unavailable(client.post("/api/v1/auth/token", data=SIGN_IN), "application/problem+json", started)
    started = time.monotonic()
    _assert_unavailable(client.post("/compat/telm/api/auth/auth/token", data=SIGN_IN), "application/json", started)
    cluster.start()
    assert client.get("/api/v1/me", headers=admin).status_code == 200
    assert client.post("/api/v1/auth/token", data=SIGN_IN).status_code == 200


def _terminate_backends(cluster: Cluster) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(cluster.url)
        try:
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database()"
            )
        finally:
            await connection.close()

    asyncio.run(run())


@needs_cluster
def test_killed_connections_retry_reads_once_and_answer_writes_503(
    cluster: Cluster, live: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, admin = live
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            warm = list(pool.map(lambda _: client.get("/api/v1/me", headers=admin).status_code, range(4)))
            assert warm == [200] * 4
            _terminate_backends(cluster)
            write = client.post("/api/v1/auth/token", data=SIGN_IN)
            assert write.status_code in (200, 503), write.text
            if write.status_code == 503:
                assert write.headers["retry-after"].isdigit()
            _terminate_backends(cluster)
            reads = list(pool.map(lambda _: client.get("/api/v1/me", headers=admin).status_code, range(4)))
            assert reads == [200] * 4
        # Mid-traffic: backends killed while reads are in flight; none answers 5xx but 503.
        futures = [pool.submit(client.get, "/api/v1/me", headers=admin) for _ in range(40)]
        for _ in range(5):
            _terminate_backends(cluster)
            time.sleep(0.02)
        statuses = [future.result().status_code for future in futures]
    assert set(statuses) <= {200, 503}, statuses
    assert client.get("/api/v1/me", headers=admin).status_code == 200


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write lock")
def test_a_sqlite_database_locked_past_the_busy_timeout_answers_503(database_url: str, database: Database) -> None:
    path = make_url(database_url).database
    assert path is not None
    asyncio.run(_prepare_admin_only(database))
    settings = settings_for(database_url, sqlite_busy_timeout_ms=200)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with serve(settings) as base, httpx.Client(base_url=base) as client:
            holder.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            _assert_unavailable(client.post("/api/v1/auth/token", data=SIGN_IN), "application/problem+json", started)
            started = time.monotonic()
            telm = client.post("/compat/telm/api/auth/auth/token", data=SIGN_IN)
            _assert_unavailable(telm, "application/json", started)
            assert "message" in telm.json()
            holder.execute("ROLLBACK")
            assert client.post("/api/v1/auth/token", data=SIGN_IN).status_code == 200
    finally:
        holder.close()


async def _prepare_admin_only(database: Database) -> None:
    runtime = build_runtime(settings_for(str(database.url)), database)
    await make_platform_admin(runtime)
