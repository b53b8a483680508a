"""The native REST API, mounted at /api/v1."""

from fastapi import APIRouter

from tenantry.api import api_keys, audit, auth, impersonation, me, members, orgs, partners, roles, sessions, users

api_router = APIRouter()
for module in (auth, me, orgs, users, members, roles, api_keys):
    api_router.include_router(module.router)
for module in (sessions, impersonation, partners, audit):
    api_router.include_router(module.router)
