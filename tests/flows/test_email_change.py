"""Changing an account's email never routes its credentials elsewhere (issue 14, finding 4).

A supervisor (``users:update`` without ``users:set_password``) must not be able to point a member's
address at a mailbox they control, reset the password there and sign in as the member.
"""

import httpx

from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer, login
from tests.mailbox import Mailbox
from tests.scim.conftest import PATCH_OP, SCIM_JSON, provisioning_key
from tests.snapshots import every_row

ATTACKER = "mallory@attacker.example"


async def _scim_patch_email(client: httpx.AsyncClient, tenant: Tenant, key: str, user_id: str) -> httpx.Response:
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": ATTACKER}]}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": SCIM_JSON}
    return await client.patch(f"/scim/v2/{tenant.slug}/Users/{user_id}", json=body, headers=headers)


async def test_without_set_password_no_surface_changes_someone_elses_email(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    victim = await tenant.add_user("victim@example.com", roles=["viewer"])
    supervisor = await tenant.add_user("supervisor@example.com", roles=["supervisor"])
    role = {"name": "idp-lite", "permissions": ["scim:provision", "users:read", "users:create", "users:update"]}
    assert (await client.post(tenant.path("/roles"), json=role, headers=tenant.auth)).status_code == 201
    key = await provisioning_key(tenant, roles=["idp-lite"])
    before = await every_row(runtime)

    native = await client.patch(tenant.path(f"/users/{victim.id}"), json={"email": ATTACKER}, headers=supervisor.auth)
    assert native.status_code == 403
    assert "users:set_password" in native.json()["detail"]
    scim = await _scim_patch_email(client, tenant, key, victim.id)
    assert scim.status_code == 403
    assert await every_row(runtime) == before
    # Other profile fields stay theirs to change.
    named = await client.patch(tenant.path(f"/users/{victim.id}"), json={"first_name": "V"}, headers=supervisor.auth)
    assert named.status_code == 200


async def test_an_email_change_ends_sessions_and_links_and_tells_the_old_address(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("before@example.com", roles=["viewer"])
    refresh = (await login(client, member.email))["refresh_token"]
    link = (await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    await mailbox.deliver()

    changed = await client.patch(
        tenant.path(f"/users/{member.id}"), json={"email": "after@example.com"}, headers=tenant.auth
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 401
    grant = await client.post("/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert grant.json()["error"] == "invalid_grant"
    assert (await client.get(link)).status_code == 410
    notice = await mailbox.one_for("before@example.com")
    assert notice.subject == "The email address of your account was changed"
    assert "after@example.com" in notice.text
    assert tenant.slug.title() in notice.text
    events = (await client.get(tenant.path(f"/audit-events?target={member.id}"), headers=tenant.auth)).json()
    assert "user.email_changed" in {event["action"] for event in events["items"]}
    assert (await login(client, "after@example.com"))["access_token"]


async def test_the_user_may_change_their_own_address_without_set_password(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    supervisor = await tenant.add_user("self@example.com", roles=["supervisor"])
    own = await client.patch(
        tenant.path(f"/users/{supervisor.id}"), json={"email": "self-new@example.com"}, headers=supervisor.auth
    )
    assert own.status_code == 200, own.text
    assert (await client.get("/api/v1/me", headers=bearer(supervisor.token))).status_code == 401  # sessions ended
