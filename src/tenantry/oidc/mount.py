"""The OpenID provider's routes, mounted on the application."""

from fastapi import FastAPI

from tenantry.oidc import authorize, discovery, endpoints, introspection, token
from tenantry.oidc.cors import ErrorCorsMiddleware
from tenantry.ui import pages
from tenantry.web.routing import include_routes


def install(app: FastAPI) -> None:
    pages.install(app)  # the consent page posts a form
    for module in (discovery, authorize, token, endpoints, introspection):
        include_routes(app.router, module.router)
    app.add_middleware(ErrorCorsMiddleware)
