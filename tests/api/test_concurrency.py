"""Races users will produce: many clients creating the same account at once."""

import asyncio
from collections import Counter

import httpx

from tests.factories import Tenant


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
