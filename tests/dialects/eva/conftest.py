"""An organization with eva's environments and bots, and helpers to call the eva dialect."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Tenant


@dataclass
class Eva:
    tenant: Tenant
    client: httpx.AsyncClient
    resources: dict[str, dict[str, Any]]

    def path(self, suffix: str = "") -> str:
        return f"/compat/eva/eva-user/org/{self.tenant.id}{suffix}"

    async def create_user(self, **body: Any) -> dict[str, Any]:
        body.setdefault("name", "Test User")
        body.setdefault("password", "Secret1")
        response = await self.client.post(self.path("/users"), json=body, headers=self.tenant.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


async def _resource(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await client.post(tenant.path("/resources"), json=body, headers=tenant.auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
async def eva(client: httpx.AsyncClient, tenant: Tenant) -> Eva:
    """Environments env-1 (bots bot-1, bot-2, inactive bot-off) and env-off (inactive, bot bot-in-off);
    env-2 with bot-2b. Each named by its external id (eva's uuid)."""
    made: dict[str, dict[str, Any]] = {}
    made["env-1"] = await _resource(client, tenant, type="environment", name="Production", external_id="env-1")
    made["env-2"] = await _resource(client, tenant, type="environment", name="Staging", external_id="env-2")
    made["env-off"] = await _resource(
        client, tenant, type="environment", name="Retired", external_id="env-off", active=False
    )
    for ref, parent, active in (
        ("bot-1", "env-1", True),
        ("bot-2", "env-1", True),
        ("bot-off", "env-1", False),
        ("bot-2b", "env-2", True),
        ("bot-in-off", "env-off", True),
    ):
        made[ref] = await _resource(
            client, tenant, type="bot", name=ref.title(), external_id=ref, parent_id=made[parent]["id"], active=active
        )
    return Eva(tenant=tenant, client=client, resources=made)
