"""Races users will produce: many clients creating the same account at once, one new address created in two
organizations at once, a member changed while it is removed, an organization deleted while a user is created
in it. PostgreSQL runs them side by side; SQLite's writers take turns, so there they pin the answers one after
the other gives."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
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


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the answer a server would send (a 500), not the exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as served:
        yield served


Change = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


async def _changed_while_removed(served: httpx.AsyncClient, tenant: Tenant, change: Change) -> list[tuple[int, int]]:
    """Ten times: a new member is removed while ``change`` changes it; the statuses of each round."""
    rounds = []
    for _ in range(10):
        member = await tenant.add_user(roles=["member"], password=None)
        removed, changed = await asyncio.gather(
            served.delete(tenant.path(f"/users/{member.id}"), headers=tenant.auth), change(served, member.id)
        )
        rounds.append((removed.status_code, changed.status_code))
    return rounds


async def test_roles_set_while_the_member_is_removed_answer_before_or_after_the_removal(
    served: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def set_roles(served: httpx.AsyncClient, user_id: str) -> httpx.Response:
        return await served.put(tenant.path(f"/users/{user_id}/roles"), json={"roles": ["admin"]}, headers=tenant.auth)

    rounds = await _changed_while_removed(served, tenant, set_roles)
    assert all(removed == 204 and changed in (200, 404) for removed, changed in rounds), rounds


async def test_an_update_while_the_member_is_removed_answers_before_or_after_the_removal(
    served: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def update(served: httpx.AsyncClient, user_id: str) -> httpx.Response:
        return await served.patch(tenant.path(f"/users/{user_id}"), json={"attributes": {"a": 1}}, headers=tenant.auth)

    rounds = await _changed_while_removed(served, tenant, update)
    assert all(removed == 204 and changed in (200, 404) for removed, changed in rounds), rounds


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


async def test_one_new_address_created_in_two_organizations_at_once_is_two_201s_as_one_after_the_other(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Five times: one after the other, the second organization's create attaches the account as an invitation;
    at once, it must not answer that the address has an account."""
    for attempt in range(5):
        body = {"email": f"shared-{attempt}@example.com", "first_name": "S"}
        answers = await asyncio.gather(
            client.post(tenant.path("/users"), json=body, headers=tenant.auth),
            client.post(other_tenant.path("/users"), json=body, headers=other_tenant.auth),
        )
        assert [answer.status_code for answer in answers] == [201, 201], [answer.text for answer in answers]
