"""The documentation stays true to the code."""

from pathlib import Path

from fastapi import FastAPI

from tenantry.auth.policy import route_policies


def test_every_route_is_documented_with_its_permission(app: FastAPI, project_root: Path) -> None:
    text = (project_root / "docs" / "api.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for route in route_policies(app):
        if not route.path.startswith("/api/v1") and route.policy is not None:
            continue
        row = next((line for line in rows if f"`{route.method} {route.path}`" in line), None)
        assert row is not None, f"{route.method} {route.path} is missing from docs/api.md"
        if route.policy is not None and route.policy.permission:
            assert f"`{route.policy.permission}`" in row, f"{route.method} {route.path}: wrong permission in docs"


def test_readme_quick_start_is_the_two_commands(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    assert quick_start.strip().splitlines()[1:] == ["make run", "make test"]
