"""Tenancy: a member of one organization sees nothing of another, on every route that names one."""

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from tenantry.auth.policy import route_policies
from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.factories import Tenant


def org_routes(app: FastAPI) -> list[tuple[str, str]]:
    # The native API's; mounted applications (SCIM, dialects) name their parameters their own way and are
    # probed by tests/auth/test_route_walker.py.
    return [
        (route.method, route.path)
        for route in route_policies(app)
        if route.path.startswith("/api/v1/") and "{org}" in route.path
    ]


async def _audit_count(runtime: Runtime) -> int:
    async with runtime.database.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_every_org_route_is_404_for_members_of_other_orgs(
    client: httpx.AsyncClient, app: FastAPI, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    victim = await other_tenant.add_user("victim@globex.example")
    role = (
        await client.post(other_tenant.path("/roles"), json={"name": "globex-role"}, headers=other_tenant.auth)
    ).json()
    key = (
        await client.post(
            other_tenant.path("/api-keys"), json={"name": "k", "roles": ["viewer"]}, headers=other_tenant.auth
        )
    ).json()
    resource = (
        await client.post(
            other_tenant.path("/resources"), json={"type": "environment", "name": "e"}, headers=other_tenant.auth
        )
    ).json()
    app_client = {"name": "theirs", "type": "public", "redirect_uris": ["https://app.example/cb"]}
    their_client = (await client.post(other_tenant.path("/clients"), json=app_client, headers=other_tenant.auth)).json()
    hook = {"url": "https://hooks.globex.example/tenantry", "events": ["*"]}
    their_webhook = (await client.post(other_tenant.path("/webhooks"), json=hook, headers=other_tenant.auth)).json()
    own_user = await tenant.add_user()
    before = await _audit_count(runtime)
    probes = 0
    for method, template in org_routes(app):
        # The other organization's path, and ids of the other organization's things under our own path.
        things = {
            "user": victim.id,
            "role": role["id"],
            "key": key["id"],
            "partner_org": other_tenant.slug,
            "resource": resource["id"],
            "client_id": their_client["client_id"],
            "webhook": their_webhook["id"],
            "delivery": "0" * 24,
        }
        paths = {template.format(org=other_tenant.slug, **things), template.format(org=other_tenant.id, **things)}
        if any(f"{{{name}}}" in template for name in things):
            paths.add(template.format(org=tenant.slug, **things))
        for path in paths:
            response = await client.request(method, path, json={}, headers=tenant.auth)
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            probes += 1
    routes = org_routes(app)
    assert len(routes) >= 21
    assert probes >= 2 * len(routes)
    assert await _audit_count(runtime) == before
    assert (await client.get(other_tenant.path(f"/users/{victim.id}"), headers=other_tenant.auth)).status_code == 200
    assert own_user.id


async def test_non_member_cannot_tell_a_missing_org_from_a_hidden_one(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    hidden = await client.get(other_tenant.path(), headers=tenant.auth)
    missing = await client.get("/api/v1/orgs/no-such-org", headers=tenant.auth)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
