"""Partner organizations: a link lets a partner's members (holding partners:act) act with the link's role."""

import httpx
import pytest
from sqlalchemy import select

from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, accept_invitation, make_tenant


@pytest.fixture
async def partner(client: httpx.AsyncClient, root_token: str) -> Tenant:
    return await make_tenant(client, root_token, "partner-co")


async def _link(client: httpx.AsyncClient, customer: Tenant, partner: Tenant, role: str = "admin") -> httpx.Response:
    return await client.post(
        customer.path("/partners"), json={"partner_org": partner.slug, "role": role}, headers=customer.auth
    )


async def test_granting_listing_and_revoking_a_partner(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    granted = await _link(client, tenant, partner, "supervisor")
    assert granted.status_code == 201, granted.text
    link = granted.json()
    assert link["customer_org"]["slug"] == tenant.slug
    assert link["partner_org"]["slug"] == partner.slug
    assert link["role"]["name"] == "supervisor"
    listed = (await client.get(tenant.path("/partners"), headers=tenant.auth)).json()
    assert [item["id"] for item in listed["items"]] == [link["id"]]
    customers = (await client.get(partner.path("/customers"), headers=partner.auth)).json()
    assert [item["customer_org"]["slug"] for item in customers["items"]] == [tenant.slug]
    assert (await _link(client, tenant, partner)).status_code == 409
    revoked = await client.delete(tenant.path(f"/partners/{partner.id}"), headers=tenant.auth)
    assert revoked.status_code == 200
    assert revoked.json() == {
        "partner_org": {"id": partner.id, "slug": partner.slug, "name": partner.slug.title()},
        "created_accounts": [],
        "disabled": [],
        "readdressed_accounts": [],
        "signed_out_accounts": [],
        "truncated": False,
    }
    assert (await client.get(tenant.path("/partners"), headers=tenant.auth)).json()["items"] == []
    assert (await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)).status_code == 404


async def test_grant_errors_name_the_field(client: httpx.AsyncClient, tenant: Tenant, partner: Tenant) -> None:
    cases = [
        ({"partner_org": "no-such-org", "role": "admin"}, "partner_org"),
        ({"partner_org": tenant.slug, "role": "admin"}, "partner_org"),
        ({"partner_org": partner.slug, "role": "no-such-role"}, "role"),
    ]
    for body, field in cases:
        response = await client.post(tenant.path("/partners"), json=body, headers=tenant.auth)
        assert response.status_code == 422, body
        assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_a_partner_link_cannot_hand_out_rights_the_granter_lacks(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    admin = await tenant.add_user(roles=["admin"])
    response = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "owner"}, headers=admin.auth
    )
    assert response.status_code == 403


async def test_partner_member_acts_with_the_link_role_on_partner_routes_only(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, partner: Tenant
) -> None:
    await _link(client, tenant, partner, "admin")
    agent = await partner.add_user(roles=["admin"])  # admins hold partners:act in their own organization
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 200
    created = await client.post(tenant.path("/users"), json={"email": "via-partner@example.com"}, headers=agent.auth)
    assert created.status_code == 201, created.text
    # The admin role would allow these, but their policies do not admit partners.
    assert (await client.get(tenant.path("/api-keys"), headers=agent.auth)).status_code == 403
    assert (await client.post(tenant.path("/roles"), json={"name": "x"}, headers=agent.auth)).status_code == 403
    async with runtime.database.transaction(write=False) as session:
        statement = select(AuditEvent).where(
            AuditEvent.target_id == created.json()["id"], AuditEvent.action == "user.created"
        )
        event = (await session.scalars(statement)).one()
    assert (event.org_id, event.actor_user_id, event.partner_org_id) == (tenant.id, agent.id, partner.id)


async def test_the_link_role_bounds_what_a_partner_may_do(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    await _link(client, tenant, partner, "viewer")
    agent = await partner.add_user(roles=["admin"])
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 200
    created = await client.post(tenant.path("/users"), json={"email": "nope@example.com"}, headers=agent.auth)
    assert created.status_code == 403


async def test_partner_needs_partners_act_in_their_own_org(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    await _link(client, tenant, partner)
    plain: Member = await partner.add_user(roles=["member"])
    assert (await client.get(tenant.path("/users"), headers=plain.auth)).status_code == 404


async def test_revoking_the_link_cuts_access_on_the_next_request(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    await _link(client, tenant, partner)
    agent = await partner.add_user(roles=["admin"])
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 200
    await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 404


async def test_membership_wins_over_a_partner_link(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, partner: Tenant
) -> None:
    await _link(client, tenant, partner, "admin")
    agent = await partner.add_user(roles=["admin"])
    added = await client.post(
        tenant.path("/members"), json={"email": agent.email, "roles": ["viewer"]}, headers=tenant.auth
    )
    assert added.status_code == 201
    # Until the agent accepts, the invitation is no membership: the partner link still applies.
    assert (await client.get(tenant.path("/partners"), headers=agent.auth)).status_code == 403
    created = await client.post(tenant.path("/users"), json={"email": "yes@example.com"}, headers=agent.auth)
    assert created.status_code == 201
    await accept_invitation(runtime, agent.id, tenant.slug)
    # As a viewer member of the customer, the partner's admin role there does not apply.
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 200
    created = await client.post(tenant.path("/users"), json={"email": "nope@example.com"}, headers=agent.auth)
    assert created.status_code == 403


async def test_deleting_either_organization_removes_the_link(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    await _link(client, tenant, partner)
    assert (await client.delete(partner.path(), headers=partner.auth)).status_code == 204
    assert (await client.get(tenant.path("/partners"), headers=tenant.auth)).json()["items"] == []


async def test_a_role_held_by_a_partner_link_cannot_be_deleted(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    role = (await client.post(tenant.path("/roles"), json={"name": "partner-role"}, headers=tenant.auth)).json()
    assert (await _link(client, tenant, partner, role["name"])).status_code == 201
    assert (await client.delete(tenant.path(f"/roles/{role['id']}"), headers=tenant.auth)).status_code == 409
