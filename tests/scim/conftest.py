"""SCIM fixtures: an organization API key for an identity provider, and a client speaking to /scim/v2/{org}."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Tenant

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


async def provisioning_key(tenant: Tenant, roles: list[str] | None = None) -> str:
    """An API key of the organization for its identity provider (the admin role holds scim:provision)."""
    response = await tenant.client.post(
        tenant.path("/api-keys"), json={"name": "idp", "roles": roles or ["admin"]}, headers=tenant.auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


@dataclass
class Scim:
    """Requests to one organization's SCIM base URL, authenticated like an identity provider."""

    client: httpx.AsyncClient
    base: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": SCIM_JSON}

    async def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"{self.base}{path}", json=body, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, body, **kwargs)

    async def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, body, **kwargs)

    async def patch(self, path: str, operations: list[dict[str, Any]], **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, {"schemas": [PATCH_OP], "Operations": operations}, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def create_user(self, user_name: str, **attributes: Any) -> dict[str, Any]:
        response = await self.post("/Users", {"schemas": [USER], "userName": user_name, **attributes})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
async def scim(client: httpx.AsyncClient, tenant: Tenant) -> Scim:
    return Scim(client, f"/scim/v2/{tenant.slug}", await provisioning_key(tenant))
