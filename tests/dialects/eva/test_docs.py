"""docs/dialects/eva.md names every route of the dialect with its permission; the OpenAPI document renders."""

from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from tenantry.auth.policy import route_policies

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
