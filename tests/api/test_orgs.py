"""Organizations: create, list, read, change, delete."""

import httpx
import pytest
from sqlalchemy import select

from tenantry.core.tokens.models import RefreshToken
from tenantry.runtime import Runtime
from tests.factories import Tenant, accept_invitation, bearer, make_tenant
from tests.locks import account_locks


async def test_only_platform_admins_create_organizations(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    denied = await client.post("/api/v1/orgs", json={"name": "X", "slug": "x-corp"}, headers=tenant.auth)
    assert denied.status_code == 403
    created = await client.post(
        "/api/v1/orgs", json={"name": "X", "slug": "x-corp", "description": "d"}, headers=bearer(root_token)
    )
    assert created.status_code == 201
    assert created.json()["slug"] == "x-corp"
    assert created.json()["status"] == "active"


async def test_duplicate_slug_is_409(client: httpx.AsyncClient, root_token: str, tenant: Tenant) -> None:
    response = await client.post("/api/v1/orgs", json={"name": "Again", "slug": "acme"}, headers=bearer(root_token))
    assert response.status_code == 409


async def test_slug_rules_are_enforced(client: httpx.AsyncClient, root_token: str) -> None:
    for slug in ("A", "has space", "x", "a" * 101, "0123456789abcdef01234567"):
        response = await client.post("/api/v1/orgs", json={"name": "N", "slug": slug}, headers=bearer(root_token))
        assert response.status_code == 422, slug
        assert response.json()["errors"][0]["field"] == "slug"


async def test_org_is_addressed_by_id_or_slug(client: httpx.AsyncClient, tenant: Tenant) -> None:
    by_slug = await client.get(tenant.path(), headers=tenant.auth)
    by_id = await client.get(f"/api/v1/orgs/{tenant.id}", headers=tenant.auth)
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json()


async def test_list_shows_only_the_callers_orgs(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await client.get("/api/v1/orgs", headers=tenant.auth)
    assert [org["slug"] for org in mine.json()["items"]] == ["acme"]
    everything = await client.get("/api/v1/orgs", headers=bearer(root_token))
    assert {org["slug"] for org in everything.json()["items"]} == {"acme", "globex"}


async def test_list_paginates(client: httpx.AsyncClient, root_token: str) -> None:
    for index in range(5):
        await make_tenant(client, root_token, f"page-{index}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/orgs", params=params, headers=bearer(root_token))).json()
        seen += [org["slug"] for org in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"page-{index}" for index in range(5)]


async def test_owner_updates_org_and_member_cannot(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    assert (await client.patch(tenant.path(), json={"name": "Nope"}, headers=member.auth)).status_code == 403
    changed = await client.patch(tenant.path(), json={"name": "Acme 2", "slug": "acme-two"}, headers=tenant.auth)
    assert changed.status_code == 200
    assert changed.json()["slug"] == "acme-two"
    assert (await client.get("/api/v1/orgs/acme-two", headers=tenant.auth)).status_code == 200
    assert (await client.get("/api/v1/orgs/acme", headers=tenant.auth)).status_code == 404


async def test_patch_rejects_null_for_required_fields(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.patch(tenant.path(), json={"name": None}, headers=tenant.auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


async def test_patch_to_taken_slug_is_409(client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    assert (await client.patch(tenant.path(), json={"slug": "globex"}, headers=tenant.auth)).status_code == 409


async def test_delete_org_removes_memberships_and_orphaned_accounts(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    only_here = await tenant.add_user("only@example.com")
    shared = await tenant.add_user("shared@example.com")
    await client.post(other_tenant.path("/members"), json={"user_id": shared.id}, headers=other_tenant.auth)
    await accept_invitation(runtime, shared.id, other_tenant.slug)
    admin = await tenant.add_user(roles=["admin"])
    assert (await client.delete(tenant.path(), headers=admin.auth)).status_code == 403
    assert (await client.delete(tenant.path(), headers=tenant.auth)).status_code == 204
    assert (await client.get(tenant.path(), headers=bearer(root_token))).status_code == 404
    # Accounts that belonged to acme alone are gone, the owner's included.
    assert (await client.get("/api/v1/me", headers=only_here.auth)).status_code == 401
    assert (await client.get("/api/v1/me", headers=tenant.auth)).status_code == 401
    assert (await client.get(other_tenant.path(f"/users/{shared.id}"), headers=other_tenant.auth)).status_code == 200
    # The slug is free again.
    assert (await client.get("/api/v1/orgs", headers=shared.auth)).json()["items"][0]["slug"] == "globex"


async def test_deleting_an_organization_ends_its_members_sessions_without_a_lock_per_account(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One advisory lock per account, held until the commit, ran PostgreSQL out of shared memory for an
    organization of about 15,000 members; the accounts are deleted with it, their sessions end in bulk."""
    members = [await tenant.add_user() for _ in range(5)]
    locked = account_locks(monkeypatch)
    assert (await client.delete(tenant.path(), headers=tenant.auth)).status_code == 204
    assert locked == []
    async with runtime.database.transaction(write=False) as session:
        ids = [member.id for member in members]
        left = await session.scalars(
            select(RefreshToken.id).where(RefreshToken.user_id.in_(ids), RefreshToken.revoked_at.is_(None))
        )
        assert list(left) == []
    for member in members:
        assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 401
