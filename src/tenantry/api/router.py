"""The native REST API, mounted at /api/v1."""

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

api_router = APIRouter()
for module in (
    auth,
    account_flows,
    sessions,
    me,
    mfa,
    mfa_signin,
    orgs,
    users,
    members,
    impersonation,
    roles,
    api_keys,
    partners,
    audit,
    events,
    resources,
    clients,
):
    api_router.include_router(module.router)
api_router.include_router(webhooks.org_router)
api_router.include_router(webhooks.platform_router)
