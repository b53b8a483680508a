"""Calling the telm dialect as the vendor's clients do: ``Authentication: Bearer``, query parameters, emails."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.auth.conftest import instance
from tests.factories import Tenant
from tests.mailbox import mailbox

__all__ = ["instance", "mailbox"]

MOUNT = "/compat/telm"
TOKEN = f"{MOUNT}/api/auth/auth/token"


def authentication(token: str) -> dict[str, str]:
    """The vendor's header, literally ``Authentication``, with the content type its examples send."""
    return {"Authentication": f"Bearer {token}", "Content-type": "application/json"}


def tlm_key(key: str) -> dict[str, str]:
    return {"X-TLM-Key": key, "Content-type": "application/json"}


@dataclass
class Telm:
    """A tenant seen through the dialect, its owner signed in."""

    tenant: Tenant
    client: httpx.AsyncClient

    @property
    def auth(self) -> dict[str, str]:
        return authentication(self.tenant.owner.token)

    def path(self, suffix: str = "", tenant: str | None = None) -> str:
        return f"{MOUNT}/api/auth/auth/{tenant or self.tenant.slug}{suffix}"

    async def create_user(
        self, email: str, role: str = "user", headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        query = {"email": email, "first_name": "Test", "last_name": "User", "role": role, **params}
        return await self.client.post(self.path("/users"), params=query, headers=headers or self.auth)

    async def user(self, email: str) -> dict[str, Any]:
        response = await self.client.get(self.path(f"/users/{email}"), headers=self.auth)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def sign_in(self, username: str, password: str, **fields: str) -> httpx.Response:
        return await self.client.post(
            TOKEN, data={"grant_type": "password", "username": username, "password": password, **fields}
        )


@pytest.fixture
def telm(client: httpx.AsyncClient, tenant: Tenant) -> Telm:
    return Telm(tenant, client)
