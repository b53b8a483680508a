"""Adding existing accounts, and the rules on memberships: last owner, rank, self."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import Tenant, accept_invitation, bearer, prove_credentials


async def test_add_existing_account_by_email_or_id_invites_it_until_it_accepts(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await other_tenant.add_user("first@example.com")
    second = await other_tenant.add_user("second@example.com")
    by_email = await client.post(
        tenant.path("/members"), json={"email": "FIRST@example.com", "roles": ["viewer"]}, headers=tenant.auth
    )
    assert by_email.status_code == 201
    assert by_email.json()["roles"] == ["viewer"]
    assert by_email.json()["membership_status"] == "invited"
    by_id = await client.post(tenant.path("/members"), json={"user_id": second.id}, headers=tenant.auth)
    assert by_id.json()["roles"] == ["member"]
    # Until the owner accepts, the membership grants nothing.
    refused = await client.get(tenant.path(f"/users/{first.id}"), headers=first.auth)
    assert refused.status_code == 404  # an invitation is no membership yet
    await accept_invitation(runtime, first.id, tenant.slug)
    # One account, two organizations, different roles.
    assert (await client.get(tenant.path(f"/users/{first.id}"), headers=first.auth)).status_code == 200
    assert (
        await client.post(tenant.path("/users"), json={"email": "n@example.com"}, headers=first.auth)
    ).status_code == 403


async def test_platform_admin_attaches_an_existing_account_directly(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await other_tenant.add_user("first@example.com")
    await prove_credentials(runtime, first.id)  # its owner chose the password (else it is invited: test_pre_hijack)
    added = await client.post(tenant.path("/members"), json={"user_id": first.id}, headers=bearer(root_token))
    assert added.status_code == 201
    assert added.json()["membership_status"] == "active"
    assert added.json()["first_name"] == "Test"
    assert (await client.get(tenant.path(f"/users/{first.id}"), headers=first.auth)).status_code == 200


async def test_add_member_errors(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    again = await client.post(tenant.path("/members"), json={"user_id": member.id}, headers=tenant.auth)
    assert again.status_code == 409
    unknown = await client.post(tenant.path("/members"), json={"user_id": "0" * 24}, headers=tenant.auth)
    assert unknown.status_code == 404
    both = await client.post(
        tenant.path("/members"), json={"email": "a@example.com", "user_id": member.id}, headers=tenant.auth
    )
    assert both.status_code == 422
    neither = await client.post(tenant.path("/members"), json={"roles": ["member"]}, headers=tenant.auth)
    assert neither.status_code == 422


async def test_last_owner_cannot_be_removed_disabled_or_demoted(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    # acme's owners: the root admin who created it and its owner; remove root's ownership first.
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    assert (await client.delete(tenant.path(f"/users/{root_id}"), headers=bearer(root_token))).status_code == 204
    owner = tenant.owner
    demote = await client.put(tenant.path(f"/users/{owner.id}/roles"), json={"roles": ["admin"]}, headers=owner.auth)
    assert demote.status_code == 409
    assert "last owner" in demote.json()["detail"]
    assert (await client.delete(tenant.path(f"/users/{owner.id}"), headers=owner.auth)).status_code == 409
    second = await tenant.add_user(roles=["owner"])
    assert (await client.post(tenant.path(f"/users/{owner.id}/disable"), headers=second.auth)).status_code == 200
    assert (await client.delete(tenant.path(f"/users/{second.id}"), headers=second.auth)).status_code == 409


async def test_nobody_grants_rights_they_lack(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user(roles=["admin"])
    member = await tenant.add_user()
    grant_owner = await client.put(
        tenant.path(f"/users/{member.id}/roles"), json={"roles": ["owner"]}, headers=admin.auth
    )
    assert grant_owner.status_code == 403
    create_owner = await client.post(
        tenant.path("/users"), json={"email": "o@example.com", "roles": ["owner"]}, headers=admin.auth
    )
    assert create_owner.status_code == 403
    ok = await client.put(tenant.path(f"/users/{member.id}/roles"), json={"roles": ["admin"]}, headers=admin.auth)
    assert ok.status_code == 200


async def test_admin_cannot_act_on_an_owner(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user(roles=["admin"])
    owner = tenant.owner
    assert (await client.post(tenant.path(f"/users/{owner.id}/disable"), headers=admin.auth)).status_code == 403
    assert (await client.delete(tenant.path(f"/users/{owner.id}"), headers=admin.auth)).status_code == 403
    assert (
        await client.patch(tenant.path(f"/users/{owner.id}"), json={"first_name": "X"}, headers=admin.auth)
    ).status_code == 403


async def test_nobody_disables_themselves(client: httpx.AsyncClient, tenant: Tenant) -> None:
    second = await tenant.add_user(roles=["owner"])
    response = await client.post(tenant.path(f"/users/{second.id}/disable"), headers=second.auth)
    assert response.status_code == 409


async def test_disabled_membership_in_one_org_leaves_the_others(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    shared = await tenant.add_user("shared@example.com")
    await client.post(other_tenant.path("/members"), json={"user_id": shared.id}, headers=other_tenant.auth)
    await accept_invitation(runtime, shared.id, other_tenant.slug)
    disabled = await client.post(other_tenant.path(f"/users/{shared.id}/disable"), headers=other_tenant.auth)
    assert disabled.json()["status"] == "disabled"
    # The account still works: sessions survive and acme still answers; globex refuses.
    assert (await client.get(tenant.path("/users"), headers=shared.auth)).status_code == 200
    refused = await client.get(other_tenant.path("/users"), headers=shared.auth)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "your membership in this organization is disabled"
    await client.post(other_tenant.path(f"/users/{shared.id}/enable"), headers=other_tenant.auth)
    assert (await client.get(other_tenant.path("/users"), headers=shared.auth)).status_code == 200


async def test_removing_a_shared_user_keeps_the_account(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    shared = await tenant.add_user("shared@example.com")
    await client.post(other_tenant.path("/members"), json={"user_id": shared.id}, headers=other_tenant.auth)
    await accept_invitation(runtime, shared.id, other_tenant.slug)
    assert (await client.delete(other_tenant.path(f"/users/{shared.id}"), headers=other_tenant.auth)).status_code == 204
    assert (await client.get("/api/v1/me", headers=shared.auth)).status_code == 200
    assert (await client.get(other_tenant.path(f"/users/{shared.id}"), headers=other_tenant.auth)).status_code == 404


async def test_deleted_accounts_free_their_email(client: httpx.AsyncClient, tenant: Tenant) -> None:
    gone = await tenant.add_user("reuse@example.com")
    await client.delete(tenant.path(f"/users/{gone.id}"), headers=tenant.auth)
    again = await client.post(tenant.path("/users"), json={"email": "reuse@example.com"}, headers=tenant.auth)
    assert again.status_code == 201
    assert again.json()["id"] != gone.id
