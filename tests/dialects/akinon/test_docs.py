"""docs/dialects/akinon.md stays true to the dialect's routes."""

from pathlib import Path

from fastapi import FastAPI

from tests.dialects.akinon.helpers import dialect_routes


def test_every_route_is_documented_with_its_permission(app: FastAPI, project_root: Path) -> None:
    text = (project_root / "docs" / "dialects" / "akinon.md").read_text()
    for route in dialect_routes(app):
        row = next((line for line in text.splitlines() if f"`{route.method} {route.path}`" in line), None)
        assert row is not None, f"{route.method} {route.path} is missing from docs/dialects/akinon.md"
        assert route.policy is not None
        assert route.policy.permission
        assert f"`{route.policy.permission}`" in row, f"{route.method} {route.path}: wrong permission in the docs"
