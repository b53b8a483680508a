"""Every change writes an audit event naming the actor, the organization, the target and the request."""

import httpx
from sqlalchemy import select

from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.factories import Tenant


async def test_changes_are_audited(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    created = await client.post(
        tenant.path("/users"), json={"email": "audited@example.com"}, headers={**tenant.auth, "x-request-id": "req-1"}
    )
    user_id = created.json()["id"]
    await client.put(tenant.path(f"/users/{user_id}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth)
    await client.post(tenant.path(f"/users/{user_id}/disable"), headers=tenant.auth)
    await client.delete(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    async with runtime.database.transaction(write=False) as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.target_id == user_id).order_by(AuditEvent.created_at)
            )
        )
    assert [event.action for event in events] == [
        "user.created",
        "user.invitation_sent",
        "member.roles_set",
        "member.disabled",
        "member.removed",
        "user.deleted",
    ]
    first = events[0]
    assert first.org_id == tenant.id
    assert first.actor_user_id == tenant.owner.id
    assert first.request_id == "req-1"
    assert events[2].details == {"roles": ["viewer"]}


async def test_failed_changes_leave_no_audit_event(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    await tenant.add_user("dup@example.com")
    async with runtime.database.transaction(write=False) as session:
        before = len(list(await session.scalars(select(AuditEvent))))
    assert (
        await client.post(tenant.path("/users"), json={"email": "dup@example.com"}, headers=tenant.auth)
    ).status_code == 409
    async with runtime.database.transaction(write=False) as session:
        assert len(list(await session.scalars(select(AuditEvent)))) == before
