"""Magic links: an admin gets a URL (no mail) that signs the user in once."""

from datetime import datetime

import httpx
from sqlalchemy import update

from tenantry.core.onetime.models import OneTimeToken
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tests.factories import Tenant, accept_invitation
from tests.mailbox import Mailbox, csrf_of, submit


async def _magic_link(client: httpx.AsyncClient, tenant: Tenant, user_id: str) -> dict[str, str]:
    response = await client.post(tenant.path(f"/users/{user_id}/magic-link"), headers=tenant.auth)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


async def test_magic_link_signs_in_once_and_sends_no_mail(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    member = await tenant.add_user("magic@example.com")
    link = await _magic_link(client, tenant, member.id)
    assert link["url"].startswith("http://testserver/ui/magic?token=")
    lifetime = datetime.fromisoformat(link["expires_at"]) - utcnow()
    assert 14 * 60 < lifetime.total_seconds() <= 15 * 60
    assert await mailbox.deliver() == []
    landing = await client.get(link["url"])
    assert landing.status_code == 200
    assert "magic@example.com" in landing.text
    assert "tenantry_session" not in landing.headers.get("set-cookie", "")  # opening it signs nobody in
    signed_in = await client.post(
        "/ui/magic", data={"token": link["url"].split("token=")[1], "csrf_token": csrf_of(landing.text)}
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/ui/account"
    account = await client.get("/ui/account")
    assert account.status_code == 200
    assert "magic@example.com" in account.text
    client.cookies.clear()
    again = await submit(client, "/ui/forgot-password", "/ui/magic", {"token": link["url"].split("token=")[1]})
    assert again.status_code == 410
    assert (await client.get("/ui/account")).status_code == 303


async def test_an_expired_magic_link_grants_nothing(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    member = await tenant.add_user("late@example.com")
    link = await _magic_link(client, tenant, member.id)
    async with runtime.database.transaction() as session:
        await session.execute(update(OneTimeToken).values(expires_at=utcnow()))
    assert (await client.get(link["url"])).status_code == 410
    refused = await submit(client, "/ui/forgot-password", "/ui/magic", {"token": link["url"].split("token=")[1]})
    assert refused.status_code == 410
    assert "tenantry_session" not in refused.headers.get("set-cookie", "")


async def test_a_new_magic_link_voids_the_previous(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    first = await _magic_link(client, tenant, member.id)
    second = await _magic_link(client, tenant, member.id)
    assert (await client.get(first["url"])).status_code == 410
    assert (await client.get(second["url"])).status_code == 200


async def test_magic_links_follow_the_management_rules(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = await tenant.add_user(roles=["admin"])
    supervisor = await tenant.add_user(roles=["supervisor"])
    member = await tenant.add_user()
    assert (
        await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=supervisor.auth)
    ).status_code == 403
    assert (
        await client.post(tenant.path(f"/users/{tenant.owner.id}/magic-link"), headers=admin.auth)
    ).status_code == 403
    shared = await tenant.add_user("shared@example.com")
    await client.post(other_tenant.path("/members"), json={"email": shared.email}, headers=other_tenant.auth)
    invited = await client.post(tenant.path(f"/users/{shared.id}/magic-link"), headers=tenant.auth)
    assert invited.status_code == 201  # an invitation globex waits on does not make the account globex's
    await accept_invitation(runtime, shared.id, other_tenant.slug)
    refused = await client.post(tenant.path(f"/users/{shared.id}/magic-link"), headers=tenant.auth)
    assert refused.status_code == 403  # it would sign in to the other organization too
    invited = await tenant.add_user("not-yet@example.com", password=None)
    assert (await client.post(tenant.path(f"/users/{invited.id}/magic-link"), headers=tenant.auth)).status_code == 409
    await client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)
    assert (await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).status_code == 409
