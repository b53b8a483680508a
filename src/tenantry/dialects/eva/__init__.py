"""The eva dialect: eva's user API (``/eva-user/org/{orgUUID}/…``) on the core.

Roles ADMIN, SUPERVISOR, EDITOR and VIEWER are the built-in admin, supervisor, editor and viewer roles;
SUPERVISOR is granted on environments and EDITOR/VIEWER on bots, as roles scoped to resources. Errors
are eva's ``StandardError``/``ValidationError``. The bodies we designed are in docs/dialects/eva.md.
"""

from fastapi import FastAPI

from tenantry import __version__
from tenantry.dialects.eva import bulk, configurations, errors, users
from tenantry.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="eva-user API (Tenantry dialect)",
        version=__version__,
        description="eva's user management API. Authenticate with `Authorization: Bearer <access token>`.",
        redoc_url=None,
    )
    app.state.runtime = runtime
    errors.install(app)
    # Bulk routes first: their fixed paths must win over /users/{userId}.
    for module in (bulk, users, configurations):
        app.include_router(module.router)
    return app
