"""Who may call the akinon routes, with which credentials, and the vendor's bodies when they may not."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tenantry.auth import access_tokens
from tenantry.auth.policy import RoutePolicy
from tenantry.runtime import Runtime
from tests.dialects.akinon.helpers import MISSING_ID, MOUNT, dialect_app, dialect_routes, make_api_key, users_path
from tests.factories import Tenant, bearer

NO_ACCESS = {"apiError": ["you have no access to this organization"]}


def _body(method: str) -> dict[str, Any] | None:
    if method == "POST":
        return {"user": MISSING_ID, "roles": []}
    return {"roles": ["000000000000000000000003"]} if method == "PUT" else None


async def _call(client: httpx.AsyncClient, route: RoutePolicy, headers: dict[str, str], **ids: str) -> httpx.Response:
    path = MOUNT + route.path.format(**ids)
    return await client.request(route.method, path, json=_body(route.method), headers=headers)


def test_every_route_declares_a_policy(app: FastAPI) -> None:
    routes = dialect_routes(app)
    assert {(route.method, route.path) for route in routes} == {
        ("GET", "/organizations/{organizationId}/users"),
        ("POST", "/organizations/{organizationId}/users"),
        ("GET", "/organizations/{organizationId}/users/search/availables"),
        ("GET", "/organizations/{organizationId}/users/{userId}"),
        ("PUT", "/organizations/{organizationId}/users/{userId}"),
        ("DELETE", "/organizations/{organizationId}/users/{userId}"),
    }
    assert all(route.policy is not None for route in routes)


async def test_member_of_another_org_gets_403_api_error_on_every_route(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    victim = await other_tenant.add_user("victim@globex.example")
    for route in dialect_routes(app):
        response = await _call(client, route, tenant.auth, organizationId=other_tenant.id, userId=victim.id)
        assert response.status_code == 403, (route, response.text)
        assert response.json() == NO_ACCESS


async def test_an_org_that_does_not_exist_looks_the_same_as_a_foreign_one(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant
) -> None:
    for route in dialect_routes(app):
        response = await _call(client, route, tenant.auth, organizationId=MISSING_ID, userId=MISSING_ID)
        assert (response.status_code, response.json()) == (
            403,
            NO_ACCESS,
        )


async def test_user_of_another_org_is_404_api_error_on_every_user_route(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    victim = await other_tenant.add_user("victim@globex.example")
    user_routes = [route for route in dialect_routes(app) if "{userId}" in route.path]
    assert len(user_routes) == 3
    for route in user_routes:
        for user_id in (victim.id, MISSING_ID):
            response = await _call(client, route, tenant.auth, organizationId=tenant.id, userId=user_id)
            assert (response.status_code, response.json()) == (404, {"apiError": ["user not found"]}), route
    unchanged = await client.get(other_tenant.path(f"/users/{victim.id}"), headers=other_tenant.auth)
    assert unchanged.json()["roles"] == ["member"]


async def test_member_without_the_permission_gets_403_api_error(client: httpx.AsyncClient, tenant: Tenant) -> None:
    viewer = await tenant.add_user(roles=["viewer"])
    other = await tenant.add_user()
    calls = [
        ("POST", users_path(tenant.id), {"user": MISSING_ID}),
        ("GET", users_path(tenant.id, "/search/availables"), None),
        ("PUT", users_path(tenant.id, f"/{other.id}"), {"roles": []}),
        ("DELETE", users_path(tenant.id, f"/{other.id}"), None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=viewer.auth)
        assert response.status_code == 403, (method, path)
        assert list(response.json()) == ["apiError"]
        assert "requires the permission" in response.json()["apiError"][0]
    readable = await client.get(users_path(tenant.id, f"/{other.id}"), headers=viewer.auth)
    assert readable.status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "credentials are required: a bearer token or an API key"),
        ({"Authorization": "Bearer not-a-token"}, "the access token is invalid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "the authorization header must be 'Bearer <token>'"),
        ({"x-access-token": "tnt_0123456789abcdef_" + "a" * 43}, "the API key is invalid or revoked"),
    ],
)
async def test_without_valid_credentials_every_route_is_401_api_error(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, headers: dict[str, str], message: str
) -> None:
    for route in dialect_routes(app):
        response = await _call(client, route, headers, organizationId=tenant.id, userId=tenant.owner.id)
        assert response.status_code == 401, route
        assert response.json() == {"apiError": [message]}


async def test_api_key_in_x_access_token_acts_with_its_roles(client: httpx.AsyncClient, tenant: Tenant) -> None:
    reader = await make_api_key(client, tenant, ["viewer"])
    listed = await client.get(users_path(tenant.id), headers={"x-access-token": reader})
    assert listed.status_code == 200
    assert tenant.owner.email in [user["username"] for user in listed.json()["docs"]]
    refused = await client.post(users_path(tenant.id), json={"user": MISSING_ID}, headers={"x-access-token": reader})
    assert refused.status_code == 403
    admin = await make_api_key(client, tenant, ["admin"])
    victim = await tenant.add_user()
    deleted = await client.delete(users_path(tenant.id, f"/{victim.id}"), headers={"x-access-token": admin})
    assert deleted.status_code == 204


async def test_api_key_of_another_org_is_refused_with_403(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = await make_api_key(client, other_tenant, ["admin"])
    response = await client.get(users_path(tenant.id), headers={"x-access-token": foreign})
    assert (response.status_code, response.json()) == (403, NO_ACCESS)


async def test_access_token_works_in_x_access_token_and_in_authorization(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for headers in (tenant.auth, {"x-access-token": tenant.owner.token}):
        response = await client.get(users_path(tenant.id), headers=headers)
        assert response.status_code == 200


@pytest.mark.parametrize("bad_id", ["123", "zz3456789abcdef012345678", "0123456789abcdef012345678", "%0A"])
async def test_malformed_path_ids_are_400_validation_error(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, bad_id: str
) -> None:
    for route in dialect_routes(app):
        as_org = await _call(client, route, tenant.auth, organizationId=bad_id, userId=tenant.owner.id)
        assert as_org.status_code == 400, (route, as_org.text)
        assert as_org.json() == {"validationError": {"organizationId": "must be a 24-character hexadecimal id"}}
        if "{userId}" in route.path:
            as_user = await _call(client, route, tenant.auth, organizationId=tenant.id, userId=bad_id)
            assert as_user.json() == {"validationError": {"userId": "must be a 24-character hexadecimal id"}}


async def test_ids_are_read_in_either_letter_case(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user()
    response = await client.get(users_path(tenant.id.upper(), f"/{user.id.upper()}"), headers=tenant.auth)
    assert response.status_code == 200
    assert response.json()["_id"] == user.id


async def test_unknown_paths_and_methods_answer_api_error(client: httpx.AsyncClient, tenant: Tenant) -> None:
    missing = await client.get(f"{MOUNT}/organizations/{tenant.id}/teams", headers=tenant.auth)
    assert (missing.status_code, missing.json()) == (404, {"apiError": ["Not Found"]})
    wrong_method = await client.patch(users_path(tenant.id), headers=tenant.auth)
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"apiError": ["Method Not Allowed"]})


async def test_impersonated_sessions_read_but_do_not_change_members(
    client: httpx.AsyncClient, app: FastAPI, runtime: Runtime, tenant: Tenant
) -> None:
    victim = await tenant.add_user()
    admin = await tenant.add_user(roles=["admin"])  # impersonated by the owner, who holds users:impersonate
    token = await access_tokens.issue(
        runtime.keyring, runtime.settings, admin.id, session_id=None, impersonator_id=tenant.owner.id, org_id=tenant.id
    )
    for route in dialect_routes(app):
        response = await _call(client, route, bearer(token), organizationId=tenant.id, userId=victim.id)
        if route.method == "GET":
            assert response.status_code == 200, route
        else:
            assert (response.status_code, response.json()) == (
                403,
                {"apiError": ["an impersonated session may not do this"]},
            ), route


def test_openapi_document_names_the_vendors_security_and_operations(app: FastAPI) -> None:
    document = dialect_app(app).openapi()
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "accessToken"}
    operation_ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert operation_ids == {
        "getOrgUsers",
        "createOrgUser",
        "searchOrgUsers",
        "getOrgUser",
        "updateOrgUser",
        "deleteOrgUser",
    }
    assert not any("422" in op["responses"] for ops in document["paths"].values() for op in ops.values())


async def test_openapi_document_is_served_under_the_mount(client: httpx.AsyncClient, root_token: str) -> None:
    response = await client.get(f"{MOUNT}/openapi.json", headers=bearer(root_token))
    assert response.status_code == 200
    assert "/organizations/{organizationId}/users" in response.json()["paths"]
