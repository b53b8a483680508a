"""POST …/users, GET|PUT|DELETE …/users/{userId}: adding accounts, reading members, their roles, removal."""

from typing import Any

import httpx
import pytest

from tests.dialects.akinon.helpers import MISSING_ID, make_role, users_path
from tests.factories import Member, Tenant, bearer

MEMBER_ROLE, VIEWER_ROLE, OWNER_ROLE = (
    "000000000000000000000003",
    "000000000000000000000006",
    "000000000000000000000001",
)
USER_KEYS = {"_id", "username", "firstName", "lastName", "status", "attributes", "settings"} | {
    "lastLoginAt", "createdAt", "updatedAt",
}  # fmt: skip


async def _outsider(other_tenant: Tenant) -> Member:
    return await other_tenant.add_user("outsider@globex.example", first_name="Out", last_name="Sider")


async def test_adding_an_existing_account_answers_201_organization_user(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    auditor = await make_role(client, tenant, "auditor", ["users:read", "audit:read"])
    outsider = await _outsider(other_tenant)
    body = {"user": outsider.id, "roles": [auditor["id"], VIEWER_ROLE]}
    response = await client.post(users_path(tenant.id), json=body, headers=tenant.auth)
    assert response.status_code == 201, response.text
    added = response.json()
    assert set(added) == USER_KEYS | {"organization", "roles"}
    assert (added["_id"], added["username"], added["status"], added["organization"]) == (
        outsider.id, outsider.email, 1, tenant.id,
    )  # fmt: skip
    by_name = {role["name"]: role for role in added["roles"]}
    assert sorted(by_name) == ["auditor", "viewer"]
    assert {key: by_name["auditor"][key] for key in ("_id", "description", "organization", "privileges", "status")} == {
        "_id": auditor["id"],
        "description": "auditor role",
        "organization": tenant.id,
        "privileges": ["audit:read", "users:read"],
        "status": 1,
    }
    assert by_name["viewer"]["privileges"] == ["orgs:read", "roles:read", "users:read"]
    listed = await client.get(users_path(tenant.id), params={"username": "outsider@"}, headers=tenant.auth)
    assert listed.json()["totalDocs"] == 1


async def test_without_roles_the_account_joins_as_member(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    outsider = await _outsider(other_tenant)
    response = await client.post(users_path(tenant.id), json={"user": outsider.id, "roles": []}, headers=tenant.auth)
    assert [role["_id"] for role in response.json()["roles"]] == [MEMBER_ROLE]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "user"),
        ({"user": "not-an-id"}, "user"),
        ({"user": 12}, "user"),
        ({"user": MISSING_ID, "roles": ["nope"]}, "roles.0"),
        ({"user": MISSING_ID, "roles": "viewer"}, "roles"),
        ([], "body"),
    ],
)
async def test_malformed_bodies_are_400_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, body: Any, field: str
) -> None:
    response = await client.post(users_path(tenant.id), json=body, headers=tenant.auth)
    assert response.status_code == 400
    assert list(response.json()) == ["validationError"]
    assert field in response.json()["validationError"]


async def test_body_that_is_not_json_is_400(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        users_path(tenant.id), content=b"{user:", headers={**tenant.auth, "content-type": "application/json"}
    )
    assert (response.status_code, list(response.json()["validationError"])) == (400, ["body"])


async def test_unknown_account_role_or_existing_member_are_400(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    outsider = await _outsider(other_tenant)
    foreign = (await make_role(client, other_tenant, "globex-role", []))["id"]
    cases = [
        ({"user": MISSING_ID}, {"user": "no account has this id"}),
        ({"user": outsider.id, "roles": [VIEWER_ROLE, foreign]}, {"roles.1": f"unknown role {foreign!r}"}),
        ({"user": tenant.owner.id}, {"user": "the user is already a member of this organization"}),
    ]  # fmt: skip
    for body, errors in cases:
        response = await client.post(users_path(tenant.id), json=body, headers=tenant.auth)
        assert (response.status_code, response.json()) == (400, {"validationError": errors})


async def test_nobody_grants_a_role_with_rights_they_lack(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    supervisor = await tenant.add_user(roles=["supervisor"])
    outsider = await _outsider(other_tenant)
    body = {"user": outsider.id, "roles": [OWNER_ROLE]}
    response = await client.post(users_path(tenant.id), json=body, headers=supervisor.auth)
    assert response.status_code == 403
    assert response.json() == {"apiError": ["cannot grant role 'owner': it holds permissions you do not have"]}


async def test_get_answers_the_user_with_roles_and_their_organization(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    described = await client.patch(tenant.path(), json={"description": "Acme Inc."}, headers=tenant.auth)
    assert described.status_code == 200
    user = await tenant.add_user(roles=["viewer", "member"])
    response = await client.get(users_path(tenant.id, f"/{user.id}"), headers=tenant.auth)
    assert response.status_code == 200
    got = response.json()
    assert set(got) == USER_KEYS | {"roles"}
    assert [role["name"] for role in got["roles"]] == ["member", "viewer"]
    organization = got["roles"][0]["organization"]
    assert set(organization) == {
        "_id", "name", "slug", "description", "owner", "isExecutive", "status", "privileges", "createdAt", "updatedAt",
    }  # fmt: skip
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    assert {key: organization[key] for key in ("_id", "name", "slug", "description", "owner", "status")} == {
        "_id": tenant.id, "name": "Acme", "slug": "acme", "description": "Acme Inc.", "owner": root_id, "status": 1,
    }  # fmt: skip
    assert organization["isExecutive"] is False
    assert "users:read" in organization["privileges"]


async def test_put_replaces_the_roles_and_answers_the_user(client: httpx.AsyncClient, tenant: Tenant) -> None:
    auditor = await make_role(client, tenant, "auditor", ["users:read"])
    user = await tenant.add_user(roles=["member"])
    body = {"roles": [auditor["id"].upper(), VIEWER_ROLE, VIEWER_ROLE]}
    response = await client.put(users_path(tenant.id, f"/{user.id}"), json=body, headers=tenant.auth)
    assert response.status_code == 200
    assert set(response.json()) == USER_KEYS
    held = await client.get(users_path(tenant.id, f"/{user.id}"), headers=tenant.auth)
    assert sorted(role["name"] for role in held.json()["roles"]) == ["auditor", "viewer"]
    emptied = await client.put(users_path(tenant.id, f"/{user.id}"), json={"roles": []}, headers=tenant.auth)
    assert emptied.status_code == 200
    held = await client.get(users_path(tenant.id, f"/{user.id}"), headers=tenant.auth)
    assert held.json()["roles"] == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"roles": "Field required"}),
        ({"roles": ["xyz"]}, {"roles.0": "must be a 24-character hexadecimal id"}),
        ({"roles": [MISSING_ID]}, {"roles.0": f"unknown role {MISSING_ID!r}"}),
    ],
)
async def test_put_with_bad_roles_is_400(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], errors: dict[str, str]
) -> None:
    user = await tenant.add_user()
    response = await client.put(users_path(tenant.id, f"/{user.id}"), json=body, headers=tenant.auth)
    assert (response.status_code, response.json()) == (400, {"validationError": errors})


async def test_the_last_owner_cannot_be_demoted_or_removed(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    sole_owner = "the last owner of an organization cannot be removed, disabled or demoted"
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    leaving = await client.delete(users_path(tenant.id, f"/{root_id}"), headers=bearer(root_token))
    assert leaving.status_code == 204
    demoted = await client.put(
        users_path(tenant.id, f"/{tenant.owner.id}"), json={"roles": [MEMBER_ROLE]}, headers=tenant.auth
    )
    assert (demoted.status_code, demoted.json()) == (400, {"validationError": {"roles": sole_owner}})
    removed = await client.delete(users_path(tenant.id, f"/{tenant.owner.id}"), headers=tenant.auth)
    assert (removed.status_code, removed.json()) == (403, {"apiError": [sole_owner]})


async def test_delete_removes_the_member_and_an_account_left_nowhere(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    local = await tenant.add_user("local@example.com")
    shared = await _outsider(other_tenant)
    added = await client.post(users_path(tenant.id), json={"user": shared.id}, headers=tenant.auth)
    assert added.status_code == 201
    for user in (local, shared):
        response = await client.delete(users_path(tenant.id, f"/{user.id}"), headers=tenant.auth)
        assert (response.status_code, response.content) == (204, b"")
        again = await client.get(users_path(tenant.id, f"/{user.id}"), headers=tenant.auth)
        assert again.status_code == 404
    still_there = await client.get(users_path(other_tenant.id, f"/{shared.id}"), headers=other_tenant.auth)
    assert still_there.status_code == 200
    gone = await client.post(users_path(other_tenant.id), json={"user": local.id}, headers=other_tenant.auth)
    assert gone.json() == {"validationError": {"user": "no account has this id"}}
