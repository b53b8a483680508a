"""The eva dialect: eva's user API (``/eva-user/org/{orgUUID}/…``) on the core.

Roles ADMIN, SUPERVISOR, EDITOR and VIEWER are the built-in admin, supervisor, editor and viewer roles;
SUPERVISOR is granted on environments and EDITOR/VIEWER on bots, as roles scoped to resources. Errors
are eva's ``StandardError``/``ValidationError``. The bodies we designed are in docs/dialects/eva.md.
"""

from fastapi import FastAPI

from tenantry.dialects.base import dialect_app
from tenantry.dialects.eva import bulk, configurations, errors, users
from tenantry.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    return dialect_app(
        runtime,
        title="eva-user API (Tenantry dialect)",
        description="eva's user management API. Authenticate with `Authorization: Bearer <access token>`.",
        # Bulk routes first: their fixed paths must win over /users/{userId}.
        routers=[bulk.router, users.router, configurations.router],
        install_errors=errors.install,
    )
