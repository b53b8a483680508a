"""SCIM 2.0 (RFC 7643, RFC 7644): each organization's users and groups for identity providers.

A sub-application mounted at ``/scim/v2``; the organization (id or slug) is the first path segment,
so an organization's SCIM base URL is ``/scim/v2/{org}``. Its own error handlers answer SCIM error
bodies. Everything it changes goes through the core (``tenantry.core.provisioning``).

The outer application mounts it deferred (``tenantry.web.deferred``): its modules, and scim2_models with them,
are imported by ``create_app`` when the first SCIM request comes, and this package only names the prefix.
"""

from fastapi import FastAPI

from tenantry.runtime import Runtime
from tenantry.web.docs import offline_docs
from tenantry.web.routing import include_routes

PREFIX = "/scim/v2"


def create_app(runtime: Runtime) -> FastAPI:
    from tenantry.scim import discovery, errors, groups, users  # deferred: see the module's docstring

    app = FastAPI(
        title="Tenantry SCIM 2.0",
        description="Provisioning from identity providers (RFC 7643/7644). Authenticate with an organization "
        "API key holding `scim:provision`: `Authorization: Bearer tnt_…`. See docs/scim.md.",
        docs_url=None,
        redoc_url=None,
    )
    offline_docs(app)
    app.state.runtime = runtime
    errors.install(app)
    for router in (discovery.router, users.router, groups.router):
        include_routes(app.router, router)
    return app
