"""Test data for the akinon dialect, made through the native API; paths under the dialect's mount."""

from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from tenantry.auth.policy import RoutePolicy, route_policies
from tests.factories import Member, Tenant

MOUNT = "/compat/akinon"
MISSING_ID = "0123456789abcdef01234567"


def users_path(org_id: str, suffix: str = "") -> str:
    return f"{MOUNT}/organizations/{org_id}/users{suffix}"


async def make_role(client: httpx.AsyncClient, tenant: Tenant, name: str, permissions: list[str]) -> dict[str, Any]:
    response = await client.post(
        tenant.path("/roles"),
        json={"name": name, "description": f"{name} role", "permissions": permissions},
        headers=tenant.auth,
    )
    assert response.status_code == 201, response.text
    role: dict[str, Any] = response.json()
    return role


async def make_api_key(client: httpx.AsyncClient, tenant: Tenant, roles: list[str]) -> str:
    response = await client.post(tenant.path("/api-keys"), json={"name": "akinon", "roles": roles}, headers=tenant.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def disable(client: httpx.AsyncClient, tenant: Tenant, member: Member) -> None:
    response = await client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)
    assert response.status_code == 200, response.text


def dialect_app(app: FastAPI) -> FastAPI:
    mounted = next(route for route in app.routes if isinstance(route, Mount) and route.path == MOUNT)
    assert isinstance(mounted.app, FastAPI)
    return mounted.app


def dialect_routes(app: FastAPI) -> list[RoutePolicy]:
    """The akinon sub-application's routes with their policies, paths relative to the mount."""
    return route_policies(dialect_app(app))
