"""The console's members page in an organization of 100,000 members: p50 and p99 per view.

    .venv/bin/python -m bench.console_members                 # SQLite, bench/results/console.db
    .venv/bin/python -m bench.console_members --backend postgresql
    .venv/bin/python -m bench.console_members --users 5000    # a quick look

The database is seeded once (``bench.seed``, straight into the tables) and kept: a later run with the same
shape reuses it (``--reseed`` starts again). The page is asked in process (httpx over ASGI, one request at
a time, signed in through the hosted sign-in as the platform admin the seed makes), so the figure is the
page's own cost: policy, queries (page and total), template. Target: p99 under 100 ms for each view.
"""

import argparse
import asyncio
import logging
import re
import statistics
import time
from pathlib import Path

import httpx
import structlog

from bench import seed
from tenantry.app import build_runtime, create_app
from tenantry.db import migrate
from tenantry.db.engine import Database
from tenantry.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_MS = 100.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _prepare(url: str, shape: seed.Shape, reseed: bool) -> None:
    database = Database(url)
    try:
        await migrate.upgrade(database)
        async with database.engine.connect() as connection:
            members = (
                await connection.exec_driver_sql(
                    "SELECT count(*) FROM memberships WHERE org_id = ?"
                    if url.startswith("sqlite")
                    else "SELECT count(*) FROM memberships WHERE org_id = $1",
                    (seed.org_id(0),),
                )
            ).scalar_one()
    finally:
        await database.dispose()
    if members == shape.big_org + 1 and not reseed:  # the seed makes its admin a member too
        return
    if members:
        raise SystemExit("the benchmark database holds another shape: pass --reseed")
    raw = url.replace("sqlite+aiosqlite:///", "sqlite:///").replace("postgresql+asyncpg://", "postgresql://")
    async with Database(url).engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS reference_users (id "
            + ("VARCHAR(36)" if url.startswith("sqlite") else "UUID")  # the seed writes UUIDs on PostgreSQL
            + " PRIMARY KEY, email VARCHAR(320) NOT NULL, "
            "hashed_password VARCHAR(1024) NOT NULL, is_active BOOLEAN NOT NULL, is_superuser BOOLEAN NOT NULL, "
            "is_verified BOOLEAN NOT NULL)"
        )
    await asyncio.to_thread(seed.seed, raw, shape)


async def _measure(url: str, shape: seed.Shape, repeat: int) -> dict[str, tuple[float, float]]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # no access log
    runtime = build_runtime(Settings(database_url=url, base_url="http://bench.test"))
    await runtime.keyring.load()
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    views = {
        "first page": {},
        "deep page": {"after": seed.user_id(shape.big_org // 2)},
        "search, one match": {"q": seed.token(shape.big_org // 3)},
        "search, every member": {"q": "example"},
        "role filter": {"role": "member"},
        "status filter, none match": {"status": "disabled"},
        "htmx search fragment": {"q": seed.token(shape.big_org // 4), "hx": "1"},
    }
    figures: dict[str, tuple[float, float]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        page = await client.get("/ui/sign-in")
        found = _CSRF.search(page.text)
        assert found is not None
        fields = {"email": seed.ADMIN_EMAIL, "password": seed.BENCH_PASSWORD, "csrf_token": found.group(1)}
        assert (await client.post("/ui/sign-in", data=fields)).status_code == 303
        path = f"/console/{seed.BIG_ORG_SLUG}/members"
        for name, params in views.items():
            headers = {"HX-Request": "true", "HX-Target": "member-results"} if params.pop("hx", None) else {}
            samples = []
            for attempt in range(repeat + 5):
                started = time.perf_counter()
                response = await client.get(path, params=params, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text[:300]
                if attempt >= 5:  # warm-up
                    samples.append(elapsed)
            samples.sort()
            figures[name] = (statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))])
    await runtime.database.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=100_000, help="members of the large organization")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--reseed", action="store_true")
    options = parser.parse_args()
    shape = seed.Shape(orgs=2, users=options.users + 1000, big_org=options.users)
    if options.backend == "sqlite":
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = f"console-{options.users}.db"
        if options.reseed:
            for suffix in ("", "-wal", "-shm"):
                (RESULTS / f"{name}{suffix}").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{RESULTS / name}"
    else:
        url = POSTGRES_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + "/tenantry_console"
        if options.reseed:
            raise SystemExit("PostgreSQL: drop the database tenantry_console yourself to reseed")
    asyncio.run(_prepare(url, shape, options.reseed))
    figures = asyncio.run(_measure(url, shape, options.repeat))
    print(f"console members page, {options.backend}, {options.users:,} members, {options.repeat} requests per view")
    failed = False
    for name, (median, p99) in figures.items():
        verdict = "ok" if p99 < TARGET_MS else "OVER"
        failed = failed or p99 >= TARGET_MS
        print(f"  {name:28} p50 {median:6.1f} ms   p99 {p99:6.1f} ms   {verdict}")
    if failed:
        raise SystemExit(f"p99 over {TARGET_MS:.0f} ms")


if __name__ == "__main__":
    main()
