"""MFA events under their own names (issue 20): a recovery code used and a wrong code are audited and
published, and an administrator's reset is ``mfa.reset``, not ``mfa.removed``."""

from typing import Any

import httpx
from sqlalchemy import select
from standardwebhooks import Webhook

from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.factories import Tenant, bearer
from tests.mfa.conftest import TotpClock, answer, enrol, recover, sign_in, totp_clock
from tests.webhook_receiver import webhook_receiver

__all__ = ["totp_clock"]

MFA_TYPES = ["mfa.recovery_code_used", "mfa.failed", "mfa.reset", "mfa.removed", "mfa.enrolled"]


async def _audited(runtime: Runtime, user_id: str) -> list[tuple[str, str | None]]:
    async with runtime.database.transaction(write=False) as session:
        statement = select(AuditEvent).where(AuditEvent.target_id == user_id, AuditEvent.action.like("mfa.%"))
        rows = await session.scalars(statement.order_by(AuditEvent.created_at, AuditEvent.id))
        return [(row.action, row.event_type) for row in rows]


def _received(secret: str, receiver: Any) -> list[dict[str, Any]]:
    return [Webhook(secret).verify(received.body, received.headers) for received in receiver.received]


async def test_a_recovery_code_used_and_a_wrong_code_are_audited_published_and_delivered(
    client: httpx.AsyncClient,
    hooks: httpx.AsyncClient,
    hooks_runtime: Runtime,
    root_token: str,
    tenant: Tenant,
    worker: OutboxWorker,
    totp_clock: TotpClock,
) -> None:
    member = await tenant.add_user()
    app = await enrol(client, member.token, totp_clock)
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "events": ["mfa.recovery_code_used", "mfa.failed"]}
        hook = await hooks.post("/api/v1/webhooks", json=body, headers=bearer(root_token))
        assert hook.status_code == 201, hook.text
        mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
        assert (await answer(client, mfa_token, "000000")).status_code == 400
        signed_in = await recover(client, mfa_token, app.recovery_codes[0])
        assert signed_in.status_code == 200, signed_in.text
        await worker.run_once()

    assert await _audited(hooks_runtime, member.id) == [
        ("mfa.enrolled", "mfa.enrolled"),
        ("mfa.failed", "mfa.failed"),
        ("mfa.recovery_code_used", "mfa.recovery_code_used"),
    ]
    feed = await hooks.get(
        "/api/v1/events", params={"type": ["mfa.recovery_code_used", "mfa.failed"]}, headers=bearer(root_token)
    )
    assert feed.status_code == 200, feed.text
    listed = [(item["type"], item["data"]["target"]["id"]) for item in feed.json()["items"]]
    assert listed == [("mfa.failed", member.id), ("mfa.recovery_code_used", member.id)]
    delivered = _received(hook.json()["secret"], receiver)
    assert sorted(event["type"] for event in delivered) == ["mfa.failed", "mfa.recovery_code_used"]
    assert {event["data"]["target"]["id"] for event in delivered} == {member.id}
    failed = next(event for event in delivered if event["type"] == "mfa.failed")
    assert failed["data"]["details"] == {"method": "otp"}


async def test_an_administrators_reset_is_published_as_mfa_reset(
    client: httpx.AsyncClient,
    hooks: httpx.AsyncClient,
    hooks_runtime: Runtime,
    tenant: Tenant,
    worker: OutboxWorker,
    totp_clock: TotpClock,
) -> None:
    member = await tenant.add_user()
    await enrol(client, member.token, totp_clock)
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "events": MFA_TYPES}
        hook = await hooks.post(tenant.path("/webhooks"), json=body, headers=tenant.auth)
        assert hook.status_code == 201, hook.text
        reset = await hooks.delete(tenant.path(f"/users/{member.id}/mfa"), headers=tenant.auth)
        assert reset.status_code == 204, reset.text
        await worker.run_once()
    [event] = _received(hook.json()["secret"], receiver)
    assert (event["type"], event["org_id"], event["data"]["target"]["id"]) == ("mfa.reset", tenant.id, member.id)
    feed = await hooks.get(tenant.path("/events"), params={"type": MFA_TYPES}, headers=tenant.auth)
    assert [item["type"] for item in feed.json()["items"]] == ["mfa.reset"]
    assert ("mfa.reset", "mfa.reset") in await _audited(hooks_runtime, member.id)
