"""The native REST API, served under /api/v1."""

from fastapi import APIRouter

from tenantry.api import (
    account_flows,
    api_keys,
    audit,
    auth,
    clients,
    events,
    impersonation,
    me,
    members,
    mfa,
    mfa_signin,
    orgs,
    partners,
    resources,
    roles,
    sessions,
    users,
    webhooks,
)

API_ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    account_flows.router,
    sessions.router,
    me.router,
    mfa.router,
    mfa_signin.router,
    orgs.router,
    users.router,
    members.router,
    impersonation.router,
    roles.router,
    api_keys.router,
    partners.router,
    audit.router,
    events.router,
    resources.router,
    clients.router,
    webhooks.org_router,
    webhooks.platform_router,
)
"""The native API's routers, in the order their routes are matched."""
