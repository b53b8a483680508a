"""Test data for the saleschat dialect, made through the native API; paths under the dialect's mount."""

from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from tenantry.auth.policy import RoutePolicy, route_policies
from tests.factories import Tenant, bearer

MOUNT = "/compat/saleschat"
MISSING_ID = "0123456789abcdef01234567"
NEW_PASSWORD = "a sturdy new passphrase"


def users_path(org: str, suffix: str = "") -> str:
    return f"{MOUNT}/v1/org/{org}/user{suffix}"


# operation -> (method, path suffix, body, the vendor's 404 text)
OPERATIONS = {
    "reset": ("POST", "/password/reset", {"password": NEW_PASSWORD}, "UserId does not exist for this org"),
    "magiclink": ("GET", "/magiclink", None, "UserId does not exist for this org or user has been deleted"),
    "delete": ("POST", "/delete", None, "User Id does not exist"),
    "disable": ("POST", "/disable", None, "userId does not exist for this org"),
    "enable": ("POST", "/enable", None, "userId does not exist for this org"),
}


async def call(
    client: httpx.AsyncClient, operation: str, org: str, user_id: str, headers: dict[str, str]
) -> httpx.Response:
    method, suffix, body, _ = OPERATIONS[operation]
    return await client.request(method, users_path(org, f"/{user_id}{suffix}"), json=body, headers=headers)


def new_user(email: str = "ada@example.com", **fields: Any) -> dict[str, Any]:
    """A CreateUserReqDto as the vendor documents it."""
    return {
        "email": email,
        "password": "correct horse battery staple",
        "first_name": "Ada",
        "last_name": "Lovelace",
    } | fields


async def impersonation_token(client: httpx.AsyncClient, tenant: Tenant, user_id: str) -> dict[str, str]:
    """The owner impersonates ``user_id``: a token carrying the impersonator."""
    response = await client.post(tenant.path(f"/users/{user_id}/impersonate"), headers=tenant.auth)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def link_partner(client: httpx.AsyncClient, customer: Tenant, partner: Tenant, role: str = "admin") -> None:
    body = {"partner_org": partner.slug, "role": role}
    response = await client.post(customer.path("/partners"), json=body, headers=customer.auth)
    assert response.status_code == 201, response.text


async def native_user(client: httpx.AsyncClient, tenant: Tenant, user_id: str) -> dict[str, Any]:
    response = await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


def dialect_app(app: FastAPI) -> FastAPI:
    mounted = next(route for route in app.routes if isinstance(route, Mount) and route.path == MOUNT)
    assert isinstance(mounted.app, FastAPI)
    return mounted.app


def dialect_routes(app: FastAPI) -> list[RoutePolicy]:
    """The saleschat sub-application's routes with their policies, paths relative to the mount."""
    return route_policies(dialect_app(app))


def assert_error(response: httpx.Response, status: int, code: int, description: str | None = None) -> dict[str, Any]:
    """An ErrorRespDto with ``code``; returns its payload."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error_code", "error_message", "error_description", "payload"}, body
    assert body["error_code"] == code, body
    assert isinstance(body["error_message"], str), body
    assert body["error_message"].isupper(), body
    if description is not None:
        assert body["error_description"] == description, body
    payload: dict[str, Any] = body["payload"]
    return payload
