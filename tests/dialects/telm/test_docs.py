"""docs/dialects/telm.md stays true to the dialect's routes."""

from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from tenantry.auth.policy import route_policies
from tests.dialects.telm.conftest import MOUNT


def test_every_route_is_documented_with_its_permission(app: FastAPI, project_root: Path) -> None:
    text = (project_root / "docs" / "dialects" / "telm.md").read_text()
    mounted = next(route for route in app.routes if isinstance(route, Mount) and route.path == MOUNT)
    assert isinstance(mounted.app, FastAPI)
    routes = route_policies(mounted.app)
    assert len(routes) == 13
    for route in routes:
        rows = [line for line in text.splitlines() if line.startswith("| `")]
        row = next((line for line in rows if f"`{route.method} {route.path}`" in line), None)
        assert row is not None, f"{route.method} {route.path} is missing from docs/dialects/telm.md"
        needed = "public" if route.policy is None else (route.policy.permission or "any member")
        assert needed in row.split("|")[2], f"{route.method} {route.path}: wrong permission in the docs"


def test_the_readme_lists_the_dialect(project_root: Path) -> None:
    assert "docs/dialects/telm.md" in (project_root / "README.md").read_text()


async def test_the_openapi_document_names_the_vendors_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{MOUNT}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert set(document["components"]["securitySchemes"]) == {"authentication", "authorization", "tlmKey"}
    assert document["paths"]["/api/auth/auth/token"]["post"]["security"] == []
    listing = document["paths"]["/api/auth/auth/{tenant}/users"]["get"]
    assert listing["summary"] == "Get all users assigned to this tenant"
    assert listing["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Message"
    }
