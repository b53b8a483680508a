"""The native REST API, mounted at /api/v1."""

from fastapi import APIRouter

from tenantry.api import account_flows, api_keys, auth, me, members, orgs, roles, users

api_router = APIRouter()
for module in (auth, me, orgs, users, members, roles, api_keys, account_flows):
    api_router.include_router(module.router)
