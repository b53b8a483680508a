"""OpenAPI finishing, the same for every surface: each operation summarized by its docstring's first line and
passed to the surface's hook, FastAPI's validation-error schemas left out, the surface's security schemes."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

Operation = dict[str, Any]
OperationHook = Callable[[str, Operation], None]
"""Called with each operation's path and its OpenAPI object, to put the surface's security and details there."""


def finished_openapi(app: FastAPI, security_schemes: dict[str, Any], adjust: OperationHook | None) -> dict[str, Any]:
    """The app's document, built once and kept."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            if operation.get("description"):
                operation["summary"] = operation["description"].strip().splitlines()[0]
            if adjust is not None:
                adjust(path, operation)
    components = schema.setdefault("components", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    components["securitySchemes"] = security_schemes
    app.openapi_schema = schema
    return schema
