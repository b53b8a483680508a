"""The vendor's policy triple on each operation: roles allowed, impersonated user allowed, partner allowed."""

import httpx
import pytest
from fastapi import FastAPI

from tests.dialects.saleschat.helpers import (
    assert_error,
    call,
    dialect_routes,
    impersonation_token,
    link_partner,
    native_user,
    new_user,
    users_path,
)
from tests.factories import Tenant, bearer, make_tenant

USER = "/v1/org/{orgId}/user"
# (method, path) -> (permission, impersonated user allowed, partner allowed), from the vendor's descriptions
VENDOR_POLICIES = {
    ("POST", USER): ("users:create", False, True),
    ("POST", USER + "/{userId}/password/reset"): ("users:set_password", True, True),
    ("GET", USER + "/{userId}/magiclink"): ("users:magic_link", False, True),
    ("GET", USER): ("users:read", True, True),
    ("POST", USER + "/{userId}/delete"): ("users:delete", False, True),
    ("POST", USER + "/{userId}/disable"): ("users:disable", False, True),
    ("POST", USER + "/{userId}/enable"): ("users:disable", False, True),
}
REFUSED_TO_IMPERSONATION = ("magiclink", "delete", "disable", "enable")


def test_every_operation_declares_the_vendors_policy(app: FastAPI) -> None:
    declared = {}
    for route in dialect_routes(app):
        assert route.policy is not None, route
        assert route.org_param == "orgId"
        declared[(route.method, route.path)] = (
            route.policy.permission,
            route.policy.impersonation,
            route.policy.partner,
        )
    assert declared == VENDOR_POLICIES


async def test_a_member_may_only_search(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user(roles=["member"])
    target = await tenant.add_user()
    assert_error(await client.post(users_path(tenant.id), json=new_user(), headers=member.auth), 403, 4030001)
    for operation in ("reset", *REFUSED_TO_IMPERSONATION):
        assert_error(await call(client, operation, tenant.id, target.id, member.auth), 403, 4030001)
    found = await client.get(users_path(tenant.id), params={"q": ""}, headers=member.auth)
    assert found.status_code == 200


async def test_an_impersonated_session_may_reset_passwords_and_search_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.add_user(roles=["admin"])
    target = await tenant.add_user()
    impersonated = await impersonation_token(client, tenant, admin.id)
    created = await client.post(users_path(tenant.id), json=new_user(), headers=impersonated)
    assert_error(created, 403, 4030001, "an impersonated session may not do this")
    for operation in REFUSED_TO_IMPERSONATION:
        assert_error(await call(client, operation, tenant.id, target.id, impersonated), 403, 4030001)
    assert (await native_user(client, tenant, target.id))["status"] == "active"
    assert (await call(client, "reset", tenant.id, target.id, impersonated)).status_code == 204
    found = await client.get(users_path(tenant.id), params={"q": target.email}, headers=impersonated)
    assert [item["id"] for item in found.json()["items"]] == [target.id]


async def test_an_admin_of_a_partner_org_may_do_everything(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    await link_partner(client, tenant, partner, role="admin")
    agent = (await partner.add_user(roles=["admin"])).auth
    created = await client.post(users_path(tenant.id), json=new_user(), headers=agent)
    assert created.status_code == 200, created.text
    user_id = created.json()["user_id"]
    found = await client.get(users_path(tenant.id), params={"q": "ada@"}, headers=agent)
    assert [item["id"] for item in found.json()["items"]] == [user_id]
    for operation, status in (("reset", 204), ("magiclink", 200), ("disable", 204), ("enable", 204), ("delete", 204)):
        response = await call(client, operation, tenant.id, user_id, agent)
        assert response.status_code == status, (operation, response.text)
    assert (await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)).status_code == 404


async def test_a_partner_acts_with_the_role_its_link_grants(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    await link_partner(client, tenant, partner, role="member")
    agent = (await partner.add_user(roles=["admin"])).auth
    assert (await client.get(users_path(tenant.id), params={"q": ""}, headers=agent)).status_code == 200
    assert_error(await client.post(users_path(tenant.id), json=new_user(), headers=agent), 403, 4030001)


async def test_a_revoked_partner_has_no_access(client: httpx.AsyncClient, tenant: Tenant, root_token: str) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    await link_partner(client, tenant, partner)
    agent = (await partner.add_user(roles=["admin"])).auth
    assert (await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)).status_code == 200
    assert_error(await client.post(users_path(tenant.id), json=new_user(), headers=agent), 403, 4030002)
    target = await tenant.add_user()
    assert_error(await call(client, "disable", tenant.id, target.id, agent), 404, 4040002)


@pytest.mark.parametrize(("roles", "status"), [(["admin"], 200), (["member"], 403)])
async def test_an_api_key_acts_with_its_roles(
    client: httpx.AsyncClient, tenant: Tenant, roles: list[str], status: int
) -> None:
    key = await client.post(tenant.path("/api-keys"), json={"name": "crm", "roles": roles}, headers=tenant.auth)
    assert key.status_code == 201, key.text
    created = await client.post(users_path(tenant.id), json=new_user(), headers=bearer(key.json()["key"]))
    assert created.status_code == status, created.text
