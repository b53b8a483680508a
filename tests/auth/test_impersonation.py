"""POST /orgs/{org}/users/{user}/impersonate: a short-lived token bound to the org, audited with both identities."""

import httpx
import jwt
from sqlalchemy import select

from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, accept_invitation, bearer


async def _impersonate(client: httpx.AsyncClient, tenant: Tenant, caller: dict[str, str], user: str) -> httpx.Response:
    return await client.post(tenant.path(f"/users/{user}/impersonate"), headers=caller)


async def _token_for(client: httpx.AsyncClient, tenant: Tenant, member: Member) -> str:
    response = await _impersonate(client, tenant, tenant.auth, member.id)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_the_token_names_the_impersonator_and_has_no_refresh(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user(roles=["viewer"])
    response = await _impersonate(client, tenant, tenant.auth, member.id)
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert "refresh_token" not in body
    assert (body["user_id"], body["impersonator_id"], body["org_id"]) == (member.id, tenant.owner.id, tenant.id)
    assert body["expires_in"] == 600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == member.id
    assert claims["act"]["sub"] == tenant.owner.id
    assert set(claims["act"]) == {"sub", "sid"}  # the impersonator's session: the token ends with it
    assert claims["exp"] - claims["nbf"] == 600
    me = (await client.get("/api/v1/me", headers=bearer(body["access_token"]))).json()
    assert me["id"] == member.id


async def test_actions_under_impersonation_are_audited_with_both_identities(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    member = await tenant.add_user(roles=["admin"])
    target = await tenant.add_user(roles=["viewer"])
    token = await _token_for(client, tenant, member)
    changed = await client.patch(
        tenant.path(f"/users/{target.id}"), json={"first_name": "Fixed"}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.text
    async with runtime.database.transaction(write=False) as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.target_id.in_([member.id, target.id]))))
    by_action = {event.action: event for event in events}
    assert by_action["user.impersonated"].actor_user_id == tenant.owner.id
    updated = by_action["user.updated"]
    assert (updated.actor_user_id, updated.impersonator_id) == (member.id, tenant.owner.id)


async def test_routes_that_forbid_impersonation_answer_403(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user(roles=["admin"])
    other = await tenant.add_user(roles=["viewer"])
    auth = bearer(await _token_for(client, tenant, member))
    refused = [
        await client.post(tenant.path("/users"), json={"email": "x@example.com"}, headers=auth),
        await client.post(tenant.path(f"/users/{other.id}/password"), json={"password": "q7w-zp4m-x"}, headers=auth),
        await client.post(tenant.path("/api-keys"), json={"name": "k", "roles": ["viewer"]}, headers=auth),
        await _impersonate(client, tenant, auth, other.id),
        await client.post("/api/v1/me/password", json={"current_password": "a", "new_password": "b"}, headers=auth),
        await client.post("/api/v1/auth/logout", headers=auth),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert all(r.json()["detail"] == "an impersonated session may not do this" for r in refused)


async def test_the_token_acts_only_in_its_organization(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    member = await tenant.add_user(roles=["viewer"])
    await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    await accept_invitation(runtime, member.id, other_tenant.slug)
    assert (await client.get(other_tenant.path("/users"), headers=member.auth)).status_code == 200
    auth = bearer(await _token_for(client, tenant, member))
    assert (await client.get(tenant.path("/users"), headers=auth)).status_code == 200
    assert (await client.get(other_tenant.path("/users"), headers=auth)).status_code == 404
    orgs = (await client.get("/api/v1/orgs", headers=auth)).json()["items"]
    assert [org["slug"] for org in orgs] == [tenant.slug]
    me = (await client.get("/api/v1/me", headers=auth)).json()
    assert [membership["org_slug"] for membership in me["memberships"]] == [tenant.slug]


async def test_nobody_impersonates_someone_above_them(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    admin = await tenant.add_user(roles=["admin"])
    supervisor = await tenant.add_user(roles=["supervisor"])
    viewer = await tenant.add_user(roles=["viewer"])
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    # An admin lacks orgs:delete, which the owner holds; only platform admins impersonate platform admins.
    assert (await _impersonate(client, tenant, admin.auth, tenant.owner.id)).status_code == 403
    assert (await _impersonate(client, tenant, tenant.auth, root_id)).status_code == 403
    assert (await _impersonate(client, tenant, supervisor.auth, viewer.id)).status_code == 403  # no permission
    assert (await _impersonate(client, tenant, admin.auth, viewer.id)).status_code == 200
    assert (await _impersonate(client, tenant, bearer(root_token), tenant.owner.id)).status_code == 200


async def test_impersonation_of_oneself_or_an_inactive_member_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    invited = await tenant.add_user(password=None)
    disabled = await tenant.add_user()
    await client.post(tenant.path(f"/users/{disabled.id}/disable"), headers=tenant.auth)
    for user in (tenant.owner.id, invited.id, disabled.id):
        assert (await _impersonate(client, tenant, tenant.auth, user)).status_code == 409


async def test_api_keys_cannot_impersonate(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    key = (
        await client.post(tenant.path("/api-keys"), json={"name": "k", "roles": ["admin"]}, headers=tenant.auth)
    ).json()["key"]
    assert (await _impersonate(client, tenant, {"x-api-key": key}, member.id)).status_code == 403


async def test_the_token_ends_with_the_impersonators_sessions(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user(roles=["admin"])
    member = await tenant.add_user(roles=["viewer"])
    response = await _impersonate(client, tenant, admin.auth, member.id)
    auth = bearer(response.json()["access_token"])
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    assert (await client.post("/api/v1/me/sessions/revoke", headers=admin.auth)).status_code == 204
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401


async def test_the_token_ends_when_the_impersonator_is_disabled(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.add_user(roles=["admin"])
    member = await tenant.add_user(roles=["viewer"])
    auth = bearer((await _impersonate(client, tenant, admin.auth, member.id)).json()["access_token"])
    await client.post(tenant.path(f"/users/{admin.id}/disable"), headers=tenant.auth)
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401
