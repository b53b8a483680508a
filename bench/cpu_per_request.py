"""CPU time per get-user and list-page request, in process (httpx's ASGI transport: no server, no wrk).

    PYTHONPATH=<a tree's src> python -m bench.cpu_per_request <database url seeded by bench.run> [requests] [label]

Process CPU time per request hardly depends on what else the machine runs, where requests per second do: on
a loaded machine, compare two trees by running this alternately against the same seeded database.
"""

import asyncio
import random
import sys
import time
from collections.abc import Callable

import httpx

from bench import seed
from tenantry.app import build_runtime, create_app
from tenantry.settings import Settings


async def measure(url: str, requests: int) -> dict[str, tuple[float, float]]:
    """(CPU ms, wall ms) per request for each operation."""
    settings = Settings(database_url=url, base_url="http://testserver", log_level="WARNING", auth_rate_limit="")
    runtime = build_runtime(settings)
    await runtime.keyring.load()
    app = create_app(runtime=runtime)
    found: dict[str, tuple[float, float]] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        fields = {"grant_type": "password", "username": seed.ADMIN_EMAIL, "password": seed.BENCH_PASSWORD}
        token = (await client.post("/api/v1/auth/token", data=fields)).raise_for_status().json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        sample = random.Random(11).sample(range(seed.QUICK.big_org), k=requests)
        org = f"/api/v1/orgs/{seed.BIG_ORG_SLUG}/users"
        operations: dict[str, tuple[Callable[[int], str], int]] = {
            "get_user": (lambda i: f"{org}/{seed.user_id(i)}", requests),
            "list_page": (lambda i: f"{org}?limit=50", max(requests // 5, 1)),
        }
        for name, (path, count) in operations.items():
            for i in sample[:50]:  # warm up
                (await client.get(path(i), headers=auth)).raise_for_status()
            cpu, wall = time.process_time(), time.perf_counter()
            for i in sample[:count]:
                (await client.get(path(i), headers=auth)).raise_for_status()
            found[name] = ((time.process_time() - cpu) / count * 1000, (time.perf_counter() - wall) / count * 1000)
    await runtime.database.dispose()
    return found


if __name__ == "__main__":
    arguments = sys.argv[1:]
    figures = asyncio.run(measure(arguments[0], int(arguments[1]) if len(arguments) > 1 else 600))
    label = arguments[2] if len(arguments) > 2 else ""
    print(label, {name: f"{cpu:.2f} ms CPU, {wall:.2f} ms wall" for name, (cpu, wall) in figures.items()})
