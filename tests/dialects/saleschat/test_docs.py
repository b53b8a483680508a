"""docs/dialects/saleschat.md stays true to the dialect: routes with their permissions, the error codes,
and the dialect's own OpenAPI document."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from tenantry.dialects.saleschat import errors
from tests.dialects.saleschat.helpers import MOUNT, dialect_routes


def _doc(project_root: Path) -> str:
    return (project_root / "docs" / "dialects" / "saleschat.md").read_text()


def test_every_route_is_documented_with_its_permission_and_policy(app: FastAPI, project_root: Path) -> None:
    lines = _doc(project_root).splitlines()
    for route in dialect_routes(app):
        row = next((line for line in lines if line.startswith(f"| `{route.method} {route.path}`")), None)
        assert row is not None, f"{route.method} {route.path} is missing from docs/dialects/saleschat.md"
        assert route.policy is not None
        assert f"`{route.policy.permission}`" in row, f"{route.method} {route.path}: wrong permission in the docs"
        cells = [cell.strip() for cell in row.split("|")]
        assert cells[4] == ("yes" if route.policy.impersonation else "no"), row
        assert cells[5] == ("yes" if route.policy.partner else "no"), row


def test_every_error_code_is_in_the_table(project_root: Path) -> None:
    lines = _doc(project_root).splitlines()
    for code in errors.CODES:
        row = next((line for line in lines if line.startswith(f"| {code.number} |")), None)
        assert row is not None, f"{code.number} is missing from docs/dialects/saleschat.md"
        assert f"`{code.name}`" in row, row


async def test_the_dialect_serves_its_openapi_document(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{MOUNT}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operation_ids = {operation["operationId"] for path in document["paths"].values() for operation in path.values()}
    assert operation_ids == {
        "createUserAndAddToOrg", "resetPassword", "generateMagicLink", "getUserListByEmail",
        "deleteUser", "disableUser", "enableUser",
    }  # fmt: skip
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorRespDto"]["properties"]) == {"error_code", "error_message", "error_description", "payload"}
    assert "HTTPValidationError" not in schemas
    assert document["components"]["securitySchemes"] == {
        "bearer-key": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
