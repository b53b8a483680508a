"""Races users will produce: many clients creating the same account at once, an organization deleted while a
user is created in it. PostgreSQL runs them side by side; SQLite's writers take turns, so there they pin the
answers one after the other gives."""

import asyncio
from collections import Counter

import httpx
from sqlalchemy import select

from tenantry.core.memberships.models import Membership
from tenantry.core.users.models import USER_DELETED, User
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, make_tenant


async def test_fifty_concurrent_creates_of_one_email_give_one_success(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def create(index: int) -> int:
        response = await client.post(
            tenant.path("/users"),
            json={"email": "Race@Example.com" if index % 2 else "race@example.com", "first_name": f"n{index}"},
            headers=tenant.auth,
        )
        return response.status_code

    statuses = Counter(await asyncio.gather(*(create(index) for index in range(50))))
    assert statuses == Counter({201: 1, 409: 49})
    page = await client.get(tenant.path("/users"), params={"q": "race@"}, headers=tenant.auth)
    assert len(page.json()["items"]) == 1


async def test_a_user_created_while_the_organization_is_deleted_leaves_no_live_account_in_it(
    client: httpx.AsyncClient, root_token: str, runtime: Runtime
) -> None:
    """Ten times: an organization is deleted while a user is created in it."""
    left = []
    for attempt in range(10):
        tenant = await make_tenant(client, root_token, f"doomed-{attempt}")
        email = f"late-{attempt}@example.com"
        created, deleted = await asyncio.gather(
            client.post(tenant.path("/users"), json={"email": email, "password": PASSWORD}, headers=tenant.auth),
            client.delete(tenant.path(), headers=tenant.auth),
        )
        # Before the deletion: 201; after it: 404, or 401 once it ended the owner's account with the organization.
        assert created.status_code in (201, 401, 404), created.text
        assert deleted.status_code == 204, deleted.text
        async with runtime.database.transaction(write=False) as session:
            account = (await session.scalars(select(User).where(User.email == email))).first()
            kept = list(await session.scalars(select(Membership).where(Membership.org_id == tenant.id)))
        if (account is not None and account.status != USER_DELETED) or kept:
            left.append((attempt, created.status_code, account and account.status, len(kept)))
    assert left == []
