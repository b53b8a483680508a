"""An eva upload commits in short batches: other tenants sign in and create users meanwhile, on SQLite.

Before, a bulk-create was one write transaction for the whole file, and every other tenant's write waited
for it (and failed with "database is locked" after 30 s). The figures measured on the reference machine
are in docs/sqlite.md; here the bound is generous, the point being that nobody waits for the upload.
"""

import asyncio
import time

import httpx
import pytest

from tenantry.settings import Settings
from tests.conftest import BACKEND, settings_for
from tests.dialects.eva.conftest import Eva
from tests.factories import PASSWORD, Tenant, bearer
from tests.live_server import serve

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single write lock is what is exercised")

ROWS = 1_500
GENEROUS_SECONDS = 5.0


def _upload() -> bytes:
    lines = ["email;name;company;role;password;environmentUuid;environmentName;bot"]
    lines += [f"bulk-{i}@load.test;Bulk {i};Acme;ADMIN;Secret1;;;" for i in range(ROWS)]
    return "\n".join(lines).encode()


async def _other_tenant_works(
    client: httpx.AsyncClient, tenant: Tenant, upload: asyncio.Task[httpx.Response]
) -> list[tuple[int, float]]:
    """Sign in and create a user, over and over while the upload runs (at least 8 times): (status, seconds)."""
    answers: list[tuple[int, float]] = []
    round_ = 0
    while round_ < 8 or not upload.done():
        started = time.perf_counter()
        signed_in = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": tenant.owner.email, "password": PASSWORD},
        )
        answers.append((signed_in.status_code, time.perf_counter() - started))
        token = signed_in.json().get("access_token", "")
        started = time.perf_counter()
        created = await client.post(
            f"/api/v1/orgs/{tenant.slug}/users",
            json={"email": f"meanwhile-{round_}@other.test", "password": PASSWORD},
            headers=bearer(token),
        )
        answers.append((created.status_code, time.perf_counter() - started))
        round_ += 1
    return answers


async def test_other_tenants_sign_in_and_write_while_a_large_upload_runs(
    eva: Eva, other_tenant: Tenant, database_url: str
) -> None:
    # Hashing that costs something (4 MiB), so the upload takes a while and its hashes compete with sign-ins.
    settings: Settings = settings_for(database_url, argon2_memory_kib=4096, argon2_time_cost=2)
    with serve(settings) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            started = time.perf_counter()
            upload = asyncio.create_task(
                client.post(
                    eva.path("/users/bulk-create"),
                    files={"file": ("users.csv", _upload(), "text/csv")},
                    headers=eva.tenant.auth,
                )
            )
            await asyncio.sleep(0.3)  # the upload is under way
            answers = await _other_tenant_works(client, other_tenant, upload)
            uploaded = await upload
            upload_seconds = time.perf_counter() - started
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {"errors": []}
    assert all(status in (200, 201) for status, _ in answers), answers
    slowest = sorted(seconds for _, seconds in answers)[-1]
    print(f"upload {upload_seconds:.2f} s; {len(answers)} other-tenant requests, slowest {slowest:.3f} s")
    assert slowest < GENEROUS_SECONDS, answers
