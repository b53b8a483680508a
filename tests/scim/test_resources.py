"""ETags follow every change, conditional requests, SCIM errors, and who may provision."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, accept_invitation
from tests.scim.conftest import USER, Scim, provisioning_key


async def test_user_etag_changes_with_every_change_wherever_it_is_made(scim: Scim, tenant: Tenant) -> None:
    user = await scim.create_user("eve@example.com", name={"givenName": "Eve"})
    seen = {user["meta"]["version"]}
    changes = [
        scim.client.patch(tenant.path(f"/users/{user['id']}"), json={"first_name": "Evelyn"}, headers=tenant.auth),
        scim.client.put(tenant.path(f"/users/{user['id']}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth),
        scim.client.post(tenant.path(f"/users/{user['id']}/disable"), headers=tenant.auth),
    ]
    for change in changes:
        assert (await change).status_code < 300
        response = await scim.get(f"/Users/{user['id']}")
        assert response.headers["etag"] == response.json()["meta"]["version"]
        seen.add(response.headers["etag"])
    assert len(seen) == 4


async def test_conditional_requests_use_the_version(scim: Scim) -> None:
    user = await scim.create_user("cond@example.com")
    path, version = f"/Users/{user['id']}", user["meta"]["version"]
    assert (await scim.get(path, headers={"If-None-Match": version})).status_code == 304
    changed = await scim.patch(
        path, [{"op": "replace", "path": "title", "value": "CTO"}], headers={"If-Match": version}
    )
    assert changed.status_code == 200
    stale = await scim.patch(path, [{"op": "replace", "path": "title", "value": "CEO"}], headers={"If-Match": version})
    assert stale.status_code == 412
    assert (await scim.delete(path, headers={"If-Match": version})).status_code == 412
    assert (await scim.delete(path, headers={"If-Match": changed.headers["etag"]})).status_code == 204


async def test_group_etag_changes_when_a_member_gains_the_role_elsewhere(scim: Scim, tenant: Tenant) -> None:
    member = await tenant.add_user("holder@example.com")
    group = (await scim.post("/Groups", {"displayName": "Night Shift"})).json()
    before = group["meta"]["version"]
    granted = await scim.client.put(
        tenant.path(f"/users/{member.id}/roles"), json={"roles": ["member", "Night Shift"]}, headers=tenant.auth
    )
    assert granted.status_code == 200, granted.text
    after = await scim.get(f"/Groups/{group['id']}")
    assert after.headers["etag"] != before
    assert [item["value"] for item in after.json()["members"]] == [member.id]


async def test_errors_are_scim_error_bodies(scim: Scim) -> None:
    missing = await scim.get("/Users/0123456789abcdef01234567")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/scim+json")
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert missing.json()["status"] == "404"
    broken = await scim.client.post(f"{scim.base}/Users", content=b"{nope", headers=scim.headers)
    assert (broken.status_code, broken.json()["scimType"]) == (400, "invalidSyntax")
    not_email = await scim.post("/Users", {"schemas": [USER], "userName": "bjensen"})
    assert (not_email.status_code, not_email.json()["scimType"]) == (400, "invalidValue")
    assert "userName" in not_email.json()["detail"]
    read_only = await scim.patch("/Users/0123456789abcdef01234567", [{"op": "add", "path": "title", "value": "x"}])
    assert read_only.status_code == 404
    builtin = await scim.delete("/Groups/000000000000000000000001")
    assert builtin.status_code == 409


async def test_only_callers_holding_scim_provision_may_provision(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    anonymous = await client.get(f"/scim/v2/{tenant.slug}/Users")
    assert anonymous.status_code == 401
    assert anonymous.json()["status"] == "401"
    assert "www-authenticate" in anonymous.headers
    viewer = await tenant.add_user("viewer@example.com", roles=["viewer"])
    forbidden = await client.get(f"/scim/v2/{tenant.slug}/Users", headers=viewer.auth)
    assert forbidden.status_code == 403
    foreign = await provisioning_key(other_tenant)
    hidden = await client.get(f"/scim/v2/{tenant.slug}/Users", headers={"Authorization": f"Bearer {foreign}"})
    assert hidden.status_code == 404


async def test_a_key_cannot_grant_roles_it_does_not_hold(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        tenant.path("/roles"), json={"name": "idp-only", "permissions": ["scim:provision"]}, headers=tenant.auth
    )
    assert created.status_code == 201, created.text
    scim = Scim(client, f"/scim/v2/{tenant.slug}", await provisioning_key(tenant, ["idp-only"]))
    refused = await scim.post("/Users", {"schemas": [USER], "userName": "new@example.com"})
    assert refused.status_code == 403  # new users get the member role, which holds permissions the key lacks
    assert (await scim.get("/Users")).status_code == 200


async def _minimal_key(client: httpx.AsyncClient, tenant: Tenant) -> Scim:
    """The organization's SCIM endpoint with a key of the minimal provisioning role (no ``users:set_password``)."""
    created = await client.post(
        tenant.path("/roles"),
        json={"name": "idp", "permissions": ["scim:provision", "orgs:read", "users:read", "roles:read"]},
        headers=tenant.auth,
    )
    assert created.status_code == 201, created.text
    return Scim(client, f"/scim/v2/{tenant.slug}", await provisioning_key(tenant, ["idp"]))


async def test_a_key_that_may_not_set_passwords_sets_none_not_even_through_scim(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """SCIM's ``password`` is setting another user's password, which takes ``users:set_password`` on every
    surface: a key with the minimal provisioning role neither sets one nor learns whether it is the current
    one (the comparison that spares an unchanged password comes after the permission)."""
    scim = await _minimal_key(client, tenant)
    victim = await tenant.add_user("victim@example.com", roles=["member"])
    path = f"/Users/{victim.id}"
    for password in ("chosen by the idp key 1", PASSWORD):  # a new one, and the current one
        replaced = await scim.patch(path, [{"op": "replace", "path": "password", "value": password}])
        assert replaced.status_code == 403, replaced.text
        assert "users:set_password" in replaced.json()["detail"]
    body = {"grant_type": "password", "username": victim.email, "password": "chosen by the idp key 1"}
    assert (await client.post("/api/v1/auth/token", data=body)).status_code == 400
    # With the right, the same request sets it.
    admin = Scim(client, f"/scim/v2/{tenant.slug}", await provisioning_key(tenant))
    set_ = await admin.patch(path, [{"op": "replace", "path": "password", "value": "chosen by the idp key 1"}])
    assert set_.status_code == 200, set_.text
    assert (await client.post("/api/v1/auth/token", data=body)).status_code == 200


async def test_a_key_that_may_not_set_passwords_learns_nothing_of_a_shared_account_from_its_answer(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, runtime: Runtime
) -> None:
    """Provisioning leaves a shared account's password alone, but the permission comes first: a key without
    ``users:set_password`` gets the same 403 for a shared account as for one the organization holds alone."""
    scim = await _minimal_key(client, tenant)
    alone = await tenant.add_user("alone@example.com", roles=["member"])
    shared = await tenant.add_user("shared@example.com", roles=["member"])
    joined = await client.post(other_tenant.path("/members"), json={"email": shared.email}, headers=other_tenant.auth)
    assert joined.status_code == 201, joined.text
    await accept_invitation(runtime, shared.id, other_tenant.slug)
    answers = [
        await scim.patch(f"/Users/{member.id}", [{"op": "replace", "path": "password", "value": "a new one 12345"}])
        for member in (alone, shared)
    ]
    assert [answer.status_code for answer in answers] == [403, 403]
