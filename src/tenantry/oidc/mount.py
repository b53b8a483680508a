"""The OpenID provider's routes, mounted on the application."""

from fastapi import FastAPI

from tenantry.oidc import authorize, discovery, endpoints, token


def install(app: FastAPI) -> None:
    for module in (discovery, authorize, token, endpoints):
        app.include_router(module.router)
