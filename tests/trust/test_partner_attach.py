"""Finding 6 (first half): a partner acting in its customer's organization attaches no account to it.

Neither its own account, nor its organization's members, nor anyone else's existing account, on any
surface: each refuses and nothing is written.
"""

import httpx
import pytest

from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, make_tenant, prove_credentials
from tests.snapshots import every_row
from tests.trust.conftest import ATTACHES, Victim

PARTNER_SURFACES = [name for name in ATTACHES if name != "scim"]  # SCIM takes only the organization's own keys


@pytest.fixture
async def partner_agent(client: httpx.AsyncClient, root_token: str, tenant: Tenant) -> tuple[Tenant, Member]:
    partner = await make_tenant(client, root_token, "partner-co")
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    return partner, await partner.add_user("agent@partner.example", roles=["admin"])


@pytest.mark.parametrize("surface", PARTNER_SURFACES)
async def test_a_partner_cannot_attach_accounts_to_its_customer(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    other_tenant: Tenant,
    partner_agent: tuple[Tenant, Member],
    surface: str,
) -> None:
    partner, agent = partner_agent
    colleague = await partner.add_user("colleague@partner.example")
    outsider = await other_tenant.add_user("outsider@example.com")
    # The partner may act in the customer's organization (it reads its users)...
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 200
    # ...but attaches nobody: not itself, not a colleague, not another organization's user.
    for target in (agent, colleague, outsider):
        before = await every_row(runtime)
        response = await ATTACHES[surface](client, tenant, target.email, target.id, agent.auth)
        assert response.status_code in {400, 403, 422}, response.text  # 422: eva's bulk import, no row created
        assert "partner" in response.text
        assert await every_row(runtime) == before


async def test_a_partner_still_creates_new_accounts_for_its_customer(
    client: httpx.AsyncClient, tenant: Tenant, partner_agent: tuple[Tenant, Member]
) -> None:
    _, agent = partner_agent
    created = await client.post(tenant.path("/users"), json={"email": "new@example.com"}, headers=agent.auth)
    assert created.status_code == 201, created.text


async def test_a_platform_admin_acting_through_no_partner_link_still_attaches(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, alice: Victim, other_tenant: Tenant
) -> None:
    await prove_credentials(runtime, alice.id)
    added = await client.post(
        other_tenant.path("/members"), json={"user_id": alice.id}, headers={"Authorization": f"Bearer {root_token}"}
    )
    assert added.status_code == 201
    assert added.json()["membership_status"] == "active"
