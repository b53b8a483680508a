"""CPU time per request, in process (httpx's ASGI transport: no server, no wrk).

    PYTHONPATH=<a tree's src> python -m bench.cpu_per_request <database url seeded by bench.run> [requests] [label] \
        [ops]

``ops`` is a comma-separated choice of get_user, list_page, search, create_user and login (default:
get_user,list_page). create_user posts new addresses without a password (an invitation is queued), as ``make bench``
does; login is the password grant; search is the bench's selective search (a term that one member's email holds).
Besides the process's CPU time, each operation reports the event loop thread's alone (``loop``): for login that is
what a sign-in costs besides its hash, which runs on the hashing threads.

Process CPU time per request hardly depends on what else the machine runs, where requests per second do: on
a loaded machine, compare two trees by running this alternately against the same seeded database.
"""

import asyncio
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench import seed
from tenantry import logs
from tenantry.app import build_runtime, create_app
from tenantry.settings import Settings

DEFAULT_OPERATIONS = ("get_user", "list_page")


@dataclass(frozen=True)
class Operation:
    method: str
    path: Callable[[int], str]
    count: int
    json: Callable[[int], dict[str, str]] | None = None
    form: dict[str, str] | None = None
    authenticated: bool = True


async def measure(
    url: str, requests: int, names: tuple[str, ...] = DEFAULT_OPERATIONS
) -> dict[str, tuple[float, float, float]]:
    """(process CPU ms, event loop thread CPU ms, wall ms) per request for each operation."""
    settings = Settings(database_url=url, base_url="http://testserver", log_level="WARNING", auth_rate_limit="")
    logs.configure(settings)  # as `tenantry serve` does: without it every request printed a console log line
    runtime = build_runtime(settings)
    await runtime.keyring.load()
    app = create_app(runtime=runtime)
    found: dict[str, tuple[float, float, float]] = {}
    transport = httpx.ASGITransport(app=app)
    run = uuid.uuid4().hex[:8]  # new addresses on every run against the same database
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        fields = {"grant_type": "password", "username": seed.ADMIN_EMAIL, "password": seed.BENCH_PASSWORD}
        token = (await client.post("/api/v1/auth/token", data=fields)).raise_for_status().json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        sample = random.Random(11).sample(range(seed.QUICK.big_org), k=requests)
        org = f"/api/v1/orgs/{seed.BIG_ORG_SLUG}/users"
        operations: dict[str, Operation] = {
            "get_user": Operation("GET", lambda i: f"{org}/{seed.user_id(i)}", requests),
            "list_page": Operation("GET", lambda i: f"{org}?limit=50", max(requests // 5, 1)),
            "search": Operation("GET", lambda i: f"{org}?q={seed.token(i)}", requests),
            "create_user": Operation(
                "POST",
                lambda i: org,
                max(requests // 2, 1),
                json=lambda i: {"email": f"new-{run}-{i}@bench.example.com", "first_name": "New", "last_name": "User"},
            ),
            "login": Operation("POST", lambda i: "/api/v1/auth/token", max(requests // 20, 1), form=fields,
                               authenticated=False),
        }  # fmt: skip

        async def send(operation: Operation, i: int) -> None:
            response = await client.request(
                operation.method,
                operation.path(i),
                headers=auth if operation.authenticated else None,
                json=operation.json(i) if operation.json else None,
                data=operation.form,
            )
            response.raise_for_status()

        for name in names:
            operation = operations[name]
            warm = sample[:10] if name == "login" else [-1 - i for i in range(50)]  # create: its own addresses
            for i in warm if operation.json else sample[: len(warm)]:
                await send(operation, i)
            cpu, loop, wall = time.process_time(), time.thread_time(), time.perf_counter()
            for i in sample[: operation.count]:
                await send(operation, i)
            count = operation.count
            found[name] = (
                (time.process_time() - cpu) / count * 1000,
                (time.thread_time() - loop) / count * 1000,
                (time.perf_counter() - wall) / count * 1000,
            )
    await runtime.database.dispose()
    return found


if __name__ == "__main__":
    arguments = sys.argv[1:]
    chosen = tuple(arguments[3].split(",")) if len(arguments) > 3 else DEFAULT_OPERATIONS
    figures = asyncio.run(measure(arguments[0], int(arguments[1]) if len(arguments) > 1 else 600, chosen))
    label = arguments[2] if len(arguments) > 2 else ""
    shown = {
        name: f"{cpu:.2f} ms CPU ({loop:.2f} loop), {wall:.2f} ms wall" for name, (cpu, loop, wall) in figures.items()
    }
    print(label, shown)
