"""Test harness: one real database per run (SQLite file or PostgreSQL), migrated with Alembic.

`TENANTRY_TEST_BACKEND` picks the backend (`sqlite`, the default, or `postgresql`); `make test` runs
the suite once per backend. Each test starts from empty tables (built-in roles and signing keys stay).
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import delete, event

from tenantry import logs
from tenantry.app import build_runtime, create_app
from tenantry.core.models import Base, Role
from tenantry.db import migrate
from tenantry.db.engine import Database
from tenantry.runtime import Runtime
from tenantry.settings import Settings
from tests.factories import Tenant, make_platform_admin, make_tenant, token_for
from tests.statements import BOUND_COMPARISON

BACKEND = os.environ.get("TENANTRY_TEST_BACKEND", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get("TENANTRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_KEPT_TABLES = {"signing_keys", "alembic_version"}

# Property tests draw the same cases on every run, so a CI failure is reproducible and never depends on
# luck; TENANTRY_FUZZ_EXPLORE=1 draws fresh random ones (exploratory fuzzing, never in `make test`).
hypothesis_settings.register_profile("tenantry", derandomize=not os.environ.get("TENANTRY_FUZZ_EXPLORE"))
hypothesis_settings.load_profile("tenantry")


def pytest_report_header() -> str:
    return f"tenantry backend: {BACKEND}"


def _postgres_admin(statement: str) -> None:
    """Run one statement on the maintenance database (in a thread: callers may be inside an event loop)."""

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@contextmanager
def empty_database(directory: Path) -> Iterator[str]:
    """A new, empty database of the backend under test; dropped afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    if BACKEND != "postgresql":
        raise pytest.UsageError(f"unknown TENANTRY_TEST_BACKEND {BACKEND!r}")
    name = f"tenantry_test_{uuid.uuid4().hex[:12]}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def settings_for(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: cheap argon2 parameters (the real ones are exercised where timing matters)."""
    values: dict[str, object] = {
        "database_url": database_url,
        "base_url": "http://testserver",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "log_level": "WARNING",
        # One client (the test transport) signs in many times: the brute-force tests set their own limits.
        "auth_rate_limit": "1000/second",
        "login_ip_max_failures": 100_000,
        "secret_key": "a test key that encrypts second factors at rest",
        # The app is shared by the session's tests: each scrape counts the outbox anew (test_metrics pins the reuse).
        "metrics_outbox_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


_BOUND_COMPARISONS: list[str] = []
"""Statements run against the shared database that bind a value a partial index's WHERE compares
(``tests.statements``): each test's teardown fails on them."""


def _watch_bound_comparisons(*args: object) -> None:
    statement = str(args[2])
    if BOUND_COMPARISON.search(statement):
        _BOUND_COMPARISONS.append(statement)


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate.upgrade(database)
    event.listen(database.engine.sync_engine, "before_cursor_execute", _watch_bound_comparisons)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    settings = settings_for(database_url)
    logs.configure(settings)
    return settings


@pytest.fixture(scope="session")
async def runtime(settings: Settings, database: Database) -> Runtime:
    runtime = build_runtime(settings, database)
    await runtime.keyring.load()
    return runtime


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    bound, _BOUND_COMPARISONS[:] = list(_BOUND_COMPARISONS), []
    assert bound == [], "statements bind a value a partial index compares (db.base.in_text)"
    database: Database = request.getfixturevalue("database")
    async with database.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in _KEPT_TABLES:
                continue
            statement = delete(table)
            if table.name == Role.__tablename__:
                statement = statement.where(Role.builtin.is_(False))
            await session.execute(statement)


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> FastAPI:
    """One app for the session: building one costs ~1 s on its first request (FastAPI
    prepares every route lazily), which per test was a third of the suite's time. Tests that
    change an app's state or overrides build their own with create_app."""
    return create_app(runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
async def root_token(runtime: Runtime, client: httpx.AsyncClient) -> str:
    """A signed-in platform admin."""
    admin = await make_platform_admin(runtime)
    return await token_for(client, admin.email)


@pytest.fixture
async def tenant(client: httpx.AsyncClient, root_token: str) -> Tenant:
    return await make_tenant(client, root_token, "acme")


@pytest.fixture
async def other_tenant(client: httpx.AsyncClient, root_token: str) -> Tenant:
    return await make_tenant(client, root_token, "globex")
