"""TENANTRY_DIALECTS puts the saleschat dialect at /compat/saleschat by default, elsewhere, or nowhere."""

import httpx
import pytest

from tenantry.app import build_runtime, create_app
from tenantry.db.engine import Database
from tests.conftest import settings_for
from tests.dialects.saleschat.helpers import MOUNT
from tests.factories import Tenant


async def test_served_at_compat_saleschat_by_default(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(f"{MOUNT}/v1/org/{tenant.id}/user", params={"q": ""}, headers=tenant.auth)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("spec", "served", "absent"),
    [
        ("saleschat=/vendor/saleschat", "/vendor/saleschat", MOUNT),
        ("akinon", None, MOUNT),
    ],
)
async def test_the_setting_moves_or_leaves_out_the_dialect(
    database_url: str, database: Database, tenant: Tenant, spec: str, served: str | None, absent: str
) -> None:
    runtime = build_runtime(settings_for(database_url, dialects=spec), database)
    await runtime.keyring.load()
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if served is not None:
            moved = await client.get(f"{served}/v1/org/{tenant.id}/user", headers=tenant.auth)
            assert moved.status_code == 200, moved.text
        gone = await client.get(f"{absent}/v1/org/{tenant.id}/user", headers=tenant.auth)
        assert gone.status_code == 404
        assert "error_code" not in gone.text
