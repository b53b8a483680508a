"""The native REST API, mounted at /api/v1."""

from fastapi import APIRouter

from tenantry.api import api_keys, auth, me, members, orgs, resources, roles, users

api_router = APIRouter()
for module in (auth, me, orgs, users, members, roles, api_keys, resources):
    api_router.include_router(module.router)
