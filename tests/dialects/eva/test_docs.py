"""docs/dialects/eva.md names every route of the dialect with its permission; the OpenAPI document renders."""

from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from tenantry.auth.policy import route_policies
from tests.factories import Tenant

PREFIX = "/eva-user/org/{orgUUID}"


def test_every_eva_route_is_documented_with_its_permission(app: FastAPI, project_root: Path) -> None:
    text = (project_root / "docs" / "dialects" / "eva.md").read_text()
    dialect = next(route.app for route in app.routes if isinstance(route, Mount) and route.path == "/compat/eva")
    assert isinstance(dialect, FastAPI)
    routes = [route for route in route_policies(dialect) if route.path.startswith(PREFIX)]
    assert len(routes) == 17
    for route in routes:
        marker = f"`{route.method} {route.path.removeprefix(PREFIX)}"
        row = next((line for line in text.splitlines() if line.startswith(f"| {marker}")), None)
        assert row is not None, f"{marker} is missing from docs/dialects/eva.md"
        assert route.policy is not None
        expected = f"`{route.policy.permission}`" if route.policy.permission else "a user's token"
        assert expected in row, f"{marker}: wrong permission in the docs"


async def test_the_dialect_serves_its_openapi_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/compat/eva/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/eva-user/org/{orgUUID}/users/quicksearch" in paths
    error = response.json()["components"]["schemas"]["StandardError"]
    assert set(error["properties"]) == {"timestamp", "errorCode", "errorType", "message", "path"}


async def test_every_eva_route_is_404_for_members_of_other_orgs(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    dialect = next(route.app for route in app.routes if isinstance(route, Mount) and route.path == "/compat/eva")
    assert isinstance(dialect, FastAPI)
    victim = await other_tenant.add_user("victim@globex.example")
    for route in route_policies(dialect):
        path = "/compat/eva" + route.path.format(
            orgUUID=other_tenant.id, userId=victim.id, userUuid=victim.id, botUUID="b"
        )
        response = await client.request(route.method, path, json={}, headers=tenant.auth)
        assert response.status_code == 404, (route.method, path, response.text)
        assert response.json()["errorCode"] == "NOT_FOUND"
