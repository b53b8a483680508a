"""An impersonation token is re-checked on every request (issue 14, finding 5): once the impersonator is
demoted, disabled, removed or signed out, the token they minted answers 401 on every surface and
changes nothing."""

from collections.abc import Awaitable, Callable

import httpx
import pytest

from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, accept_invitation, bearer
from tests.snapshots import every_row

Revocation = Callable[[httpx.AsyncClient, Tenant, Member], Awaitable[httpx.Response]]


async def _demote(client: httpx.AsyncClient, tenant: Tenant, admin: Member) -> httpx.Response:
    return await client.put(tenant.path(f"/users/{admin.id}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth)


async def _disable(client: httpx.AsyncClient, tenant: Tenant, admin: Member) -> httpx.Response:
    return await client.post(tenant.path(f"/users/{admin.id}/disable"), headers=tenant.auth)


async def _remove(client: httpx.AsyncClient, tenant: Tenant, admin: Member) -> httpx.Response:
    return await client.delete(tenant.path(f"/users/{admin.id}"), headers=tenant.auth)


async def _sign_out(client: httpx.AsyncClient, tenant: Tenant, admin: Member) -> httpx.Response:
    return await client.post("/api/v1/auth/logout", headers=admin.auth)


async def _end_every_session(client: httpx.AsyncClient, tenant: Tenant, admin: Member) -> httpx.Response:
    return await client.post("/api/v1/me/sessions/revoke", headers=admin.auth)


async def _reads(client: httpx.AsyncClient, tenant: Tenant, token: str, victim: Member) -> list[httpx.Response]:
    """A read through telm and a read of "me"."""
    return [
        await client.get(
            f"/compat/telm/api/auth/auth/{tenant.slug}/users/{victim.email}",
            headers={"Authentication": f"Bearer {token}"},
        ),
        await client.get("/api/v1/me", headers=bearer(token)),
    ]


async def _attempts(client: httpx.AsyncClient, tenant: Tenant, token: str, victim: Member) -> list[httpx.Response]:
    """A write through the native API (on a user the impersonated supervisor manages), then the reads."""
    bystander = await tenant.add_user(roles=["viewer"], password=None)
    write = await client.patch(
        tenant.path(f"/users/{bystander.id}"), json={"first_name": "Fixed"}, headers=bearer(token)
    )
    return [write, *(await _reads(client, tenant, token, victim))]


@pytest.mark.parametrize("revocation", [_demote, _disable, _remove, _sign_out, _end_every_session])
async def test_the_token_ends_when_the_impersonator_may_no_longer_impersonate(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant, revocation: Revocation
) -> None:
    admin = await tenant.add_user("impersonator@example.com", roles=["admin"])
    # The account stays active through another membership: only its rights in this organization change.
    joined = await client.post(other_tenant.path("/members"), json={"email": admin.email}, headers=other_tenant.auth)
    assert joined.status_code == 201, joined.text
    await accept_invitation(runtime, admin.id, other_tenant.slug)
    victim = await tenant.add_user("impersonated@example.com", roles=["supervisor"])
    minted = await client.post(tenant.path(f"/users/{victim.id}/impersonate"), headers=admin.auth)
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    assert [r.status_code for r in await _attempts(client, tenant, token, victim)] == [200, 200, 200]

    revoked = await revocation(client, tenant, admin)
    assert revoked.status_code in (200, 204), revoked.text
    bystander = await tenant.add_user(roles=["viewer"], password=None)
    before = await every_row(runtime)
    refused = [
        await client.patch(tenant.path(f"/users/{bystander.id}"), json={"first_name": "Pwned"}, headers=bearer(token)),
        *(await _reads(client, tenant, token, victim)),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert await every_row(runtime) == before


async def test_a_platform_admin_impersonation_stands_without_a_membership(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    victim = await tenant.add_user(roles=["supervisor"])
    minted = await client.post(tenant.path(f"/users/{victim.id}/impersonate"), headers=bearer(root_token))
    token = minted.json()["access_token"]
    assert [r.status_code for r in await _attempts(client, tenant, token, victim)] == [200, 200, 200]


async def _role(client: httpx.AsyncClient, tenant: Tenant, name: str, permissions: list[str]) -> None:
    made = await client.post(
        tenant.path("/roles"), json={"name": name, "permissions": permissions}, headers=tenant.auth
    )
    assert made.status_code == 201, made.text


async def test_a_demotion_that_keeps_the_right_to_impersonate_still_ends_the_token_over_a_higher_user(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """The impersonated may hold no right the impersonator lacks, on every request as when minted: a helpdesk
    role that may still impersonate does not keep acting as the admin it impersonated while it was one."""
    await _role(client, tenant, "helpdesk", ["orgs:read", "users:read", "roles:read", "users:impersonate"])
    helper = await tenant.add_user("helper@example.com", roles=["admin"])
    admin = await tenant.add_user("admin2@example.com", roles=["admin"])
    victim = await tenant.add_user("victim@example.com", roles=["member"])
    minted = await client.post(tenant.path(f"/users/{admin.id}/impersonate"), headers=helper.auth)
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    demoted = await client.put(
        tenant.path(f"/users/{helper.id}/roles"), json={"roles": ["helpdesk"]}, headers=tenant.auth
    )
    assert demoted.status_code == 200, demoted.text
    assert (await client.post(tenant.path(f"/users/{admin.id}/impersonate"), headers=helper.auth)).status_code == 403
    before = await every_row(runtime)
    through = await client.patch(
        tenant.path(f"/users/{victim.id}"), json={"email": "attacker@example.com"}, headers=bearer(token)
    )
    assert through.status_code == 401, through.text
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
    assert await every_row(runtime) == before


async def test_promoting_the_impersonated_user_ends_the_token(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    helper = await tenant.add_user("helper@example.com", roles=["admin"])
    victim = await tenant.add_user("victim@example.com", roles=["member"])
    minted = await client.post(tenant.path(f"/users/{victim.id}/impersonate"), headers=helper.auth)
    token = minted.json()["access_token"]
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    promoted = await client.put(
        tenant.path(f"/users/{victim.id}/roles"), json={"roles": ["owner"]}, headers=tenant.auth
    )
    assert promoted.status_code == 200, promoted.text
    before = await every_row(runtime)
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
    assert (await client.get(tenant.path("/users"), headers=bearer(token))).status_code == 401
    assert await every_row(runtime) == before


@pytest.mark.parametrize("by_platform_admin", [False, True])
async def test_removing_the_impersonated_user_ends_the_token_even_through_a_partner_link(
    client: httpx.AsyncClient,
    runtime: Runtime,
    root_token: str,
    tenant: Tenant,
    other_tenant: Tenant,
    by_platform_admin: bool,
) -> None:
    """Once the impersonated user has left the organization, the token does not go on acting there through
    the partner link of the user's own organization."""
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": other_tenant.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    agent = await other_tenant.add_user("agent@other.example", roles=["admin"])
    joined = await client.post(tenant.path("/members"), json={"email": agent.email}, headers=tenant.auth)
    assert joined.status_code == 201, joined.text
    await accept_invitation(runtime, agent.id, tenant.slug)
    impersonator = bearer(root_token) if by_platform_admin else tenant.auth
    minted = await client.post(tenant.path(f"/users/{agent.id}/impersonate"), headers=impersonator)
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    assert (await client.get(tenant.path("/users"), headers=bearer(token))).status_code == 200
    removed = await client.delete(tenant.path(f"/users/{agent.id}"), headers=tenant.auth)
    assert removed.status_code == 204, removed.text
    # The agent still reaches the organization through the link with its own credentials...
    assert (await client.get(tenant.path("/users"), headers=agent.auth)).status_code == 200
    # ...but the impersonation, minted for a member, ends with the membership.
    assert (await client.get(tenant.path("/users"), headers=bearer(token))).status_code == 401
