"""Vendor dialects have no second step: an enrolled account is refused there, in the vendor's shape."""

import httpx

from tests.dialects.telm.conftest import TOKEN as TELM_TOKEN
from tests.factories import PASSWORD, Tenant
from tests.mfa.conftest import TotpClock, enrol


async def test_telm_refuses_an_enrolled_account_with_a_clear_message(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    await enrol(client, tenant.owner.token, totp_clock)
    response = await client.post(
        TELM_TOKEN, data={"grant_type": "password", "username": tenant.owner.email, "password": PASSWORD}
    )
    assert response.status_code == 401
    assert set(response.json()) == {"message"}  # no mfa_token leaks to a client that cannot use it
    assert "second factor" in response.json()["message"]


async def test_telm_refuses_a_member_who_must_enrol(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    response = await client.post(
        TELM_TOKEN, data={"grant_type": "password", "username": member.email, "password": PASSWORD}
    )
    assert response.status_code == 401
    assert "second factor" in response.json()["message"]
