"""Webhooks: Standard Webhooks deliveries to a real receiver on loopback, retries, rotation, SSRF refusal."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from standardwebhooks import Webhook

from tenantry.core.audit.models import AuditEvent
from tenantry.core.outbox.models import FAILED, PENDING, SENT, OutboxMessage
from tenantry.core.webhooks import attempts
from tenantry.core.webhooks.attempts import Outcome
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.core.webhooks.service import WEBHOOK
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.events.conftest import SECRET_KEY, with_settings
from tests.factories import Tenant, bearer
from tests.mailbox import CollectingSink
from tests.webhook_receiver import Receiver, webhook_receiver


async def _subscribe(
    client: httpx.AsyncClient, tenant: Tenant, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    body = {"url": url, "events": events or ["*"], "description": "test receiver"}
    response = await client.post(tenant.path("/webhooks"), json=body, headers=tenant.auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _webhook_messages(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.database.transaction(write=False) as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind == WEBHOOK).order_by(OutboxMessage.id)
        return list(await session.scalars(statement))


async def _make_due(runtime: Runtime) -> None:
    async with runtime.database.transaction() as session:
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


def _verified(secret: str, received: Any) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


async def test_every_delivery_verifies_with_the_standardwebhooks_library(
    hooks: httpx.AsyncClient, tenant: Tenant, worker: OutboxWorker
) -> None:
    with webhook_receiver() as receiver:
        created = await _subscribe(hooks, tenant, receiver.url)
        assert created["secret"].startswith("whsec_")
        assert len(created["secret"]) - len("whsec_") >= 32  # base64 of at least 24 bytes
        member = await tenant.add_user("hooked@example.com")
        await worker.run_once()
    assert [r.headers["content-type"] for r in receiver.received] == ["application/json"] * len(receiver.received)
    events = [_verified(created["secret"], received) for received in receiver.received]
    assert {event["type"] for event in events} >= {"user.created", "user.signed_in"}
    user_created = next(event for event in events if event["type"] == "user.created")
    assert set(user_created) == {"id", "type", "timestamp", "org_id", "actor", "data"}
    assert user_created["data"]["target"] == {"type": "user", "id": member.id}
    assert user_created["org_id"] == tenant.id
    assert [r.headers["webhook-id"] for r in receiver.received] == [event["id"] for event in events]
    deliveries = await hooks.get(tenant.path(f"/webhooks/{created['id']}/deliveries"), headers=tenant.auth)
    assert deliveries.status_code == 200
    assert {(d["status"], d["response_status"], d["error"]) for d in deliveries.json()["items"]} == {
        ("succeeded", 200, None)
    }
    assert all(d["latency_ms"] is not None for d in deliveries.json()["items"])


async def test_only_subscribed_types_of_the_orgs_own_events_are_delivered(
    hooks: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, worker: OutboxWorker
) -> None:
    with webhook_receiver() as receiver:
        created = await _subscribe(hooks, tenant, receiver.url, ["membership.roles_changed"])
        member = await tenant.add_user()
        await other_tenant.add_user()
        await hooks.put(tenant.path(f"/users/{member.id}/roles"), json={"roles": ["viewer"]}, headers=tenant.auth)
        await worker.run_once()
    [event] = [_verified(created["secret"], received) for received in receiver.received]
    assert (event["type"], event["org_id"]) == ("membership.roles_changed", tenant.id)


async def test_a_receiver_that_fails_first_gets_the_same_webhook_id_again(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, worker: OutboxWorker
) -> None:
    with webhook_receiver(Receiver(statuses=[503])) as receiver:
        created = await _subscribe(hooks, tenant, receiver.url, ["user.created"])
        await tenant.add_user(password=None)
        started = utcnow()
        await worker.run_once()
        [message] = await _webhook_messages(hooks_runtime)
        assert (message.status, message.attempts) == (PENDING, 1)
        delay = (message.next_attempt_at - started).total_seconds()
        base = hooks_runtime.settings.outbox_retry_base_seconds
        assert base / 2 - 1 <= delay <= base + 1  # the first delay: half to all of the base, with jitter
        await worker.run_once()  # not due yet
        assert len(receiver.received) == 1
        await _make_due(hooks_runtime)
        await worker.run_once()
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert _verified(created["secret"], second)["type"] == "user.created"
    [message] = await _webhook_messages(hooks_runtime)
    assert (message.status, message.attempts) == (SENT, 2)
    listed = await hooks.get(tenant.path(f"/webhooks/{created['id']}/deliveries"), headers=tenant.auth)
    assert [(d["status"], d["response_status"]) for d in listed.json()["items"]] == [
        ("succeeded", 200),
        ("failed", 503),
    ]
    assert "503" in listed.json()["items"][1]["error"]


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    hooks: httpx.AsyncClient, tenant: Tenant, worker: OutboxWorker
) -> None:
    with webhook_receiver() as receiver:
        created = await _subscribe(hooks, tenant, receiver.url, ["user.created"])
        rotated = await hooks.post(tenant.path(f"/webhooks/{created['id']}/rotate-secret"), headers=tenant.auth)
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret.startswith("whsec_")
        assert new_secret != created["secret"]
        await tenant.add_user(password=None)
        await worker.run_once()
    [received] = receiver.received
    signatures = received.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(signature.startswith("v1,") for signature in signatures)
    assert _verified(new_secret, received) == _verified(created["secret"], received)


async def test_secrets_are_answered_once_and_stored_encrypted(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant
) -> None:
    created = await _subscribe(hooks, tenant, "https://hooks.example.com/tenantry")
    shown = await hooks.get(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.auth)
    listed = await hooks.get(tenant.path("/webhooks"), headers=tenant.auth)
    assert "secret" not in shown.json()
    assert created["secret"] not in listed.text
    async with hooks_runtime.database.transaction(write=False) as session:
        stored = await session.get(WebhookEndpoint, created["id"])
    assert stored is not None
    assert created["secret"] not in stored.secret
    assert created["secret"].removeprefix("whsec_") not in stored.secret


async def test_private_urls_are_refused_without_the_setting(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, mail: CollectingSink
) -> None:
    strict = with_settings(runtime, secret_key=SecretStr(SECRET_KEY))
    for url in ("http://hooks.example.com/", "https://127.0.0.1/", "https://[::1]/", "https://10.0.0.8/", "ftp://x/"):
        response = await client.post(tenant.path("/webhooks"), json={"url": url, "events": ["*"]}, headers=tenant.auth)
        assert response.status_code in (409, 422), (url, response.text)
    with webhook_receiver() as receiver:
        # A name that resolves to a loopback address passes the save and is refused at delivery, after DNS.
        port = receiver.url.split(":")[2].split("/")[0]
        async with _client_for(strict) as strict_client:
            created = await _subscribe(strict_client, tenant, f"https://localhost:{port}/hooks", ["user.created"])
            await tenant.add_user(password=None)
            await OutboxWorker(strict, email_sink=mail).run_once()
            listed = await strict_client.get(tenant.path(f"/webhooks/{created['id']}/deliveries"), headers=tenant.auth)
    assert receiver.received == []
    [attempt] = listed.json()["items"]
    assert attempt["status"] == "failed"
    assert attempt["error"].startswith("refused: localhost resolves to a non-public address")


def _client_for(runtime: Runtime) -> httpx.AsyncClient:
    from tenantry.app import create_app

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime=runtime)), base_url="http://testserver"
    )


async def test_an_endpoint_failing_for_days_is_disabled_and_the_owners_told(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, worker: OutboxWorker, mail: CollectingSink
) -> None:
    with webhook_receiver(Receiver(statuses=[500, 500])) as receiver:
        created = await _subscribe(hooks, tenant, receiver.url, ["user.created"])
        async with hooks_runtime.database.transaction() as session:
            await session.execute(update(WebhookEndpoint).values(failing_since=utcnow() - timedelta(days=3, minutes=1)))
        await tenant.add_user(password=None)
        await worker.run_once()
        await _make_due(hooks_runtime)
        await worker.run_once()
    shown = (await hooks.get(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.auth)).json()
    assert (shown["enabled"], shown["disabled_reason"]) == (False, "every delivery failed for 3 days")
    [message] = await _webhook_messages(hooks_runtime)
    assert message.status == FAILED  # its next attempt found the endpoint disabled
    assert len(receiver.received) == 1
    told = [m for m in mail.sent if "webhook" in m.subject]
    assert tenant.owner.email in {m.to for m in told}
    assert all(receiver.url in m.text for m in told)
    enabled = await hooks.patch(tenant.path(f"/webhooks/{created['id']}"), json={"enabled": True}, headers=tenant.auth)
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)


async def _fail_for_days(runtime: Runtime, endpoint_id: str) -> None:
    """An attempt that fails after the endpoint has failed every delivery for more than 3 days."""
    async with runtime.database.transaction() as session:
        await session.execute(update(WebhookEndpoint).values(failing_since=utcnow() - timedelta(days=4)))
    async with runtime.database.transaction() as session:
        await attempts.settle(session, runtime.templates, endpoint_id, "0" * 24, Outcome(error="refused"), utcnow())


async def test_disabling_a_failing_endpoint_is_audited(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant
) -> None:
    """Tenantry's own change, like a user's PATCH, is in the organization's audit log (with no acting user)."""
    created = await _subscribe(hooks, tenant, "http://127.0.0.1:9/never")
    await _fail_for_days(hooks_runtime, created["id"])
    await _fail_for_days(hooks_runtime, created["id"])  # already disabled: recorded once
    log = await hooks.get(tenant.path("/audit-events"), params={"target": created["id"]}, headers=tenant.auth)
    disabled = [event for event in log.json()["items"] if event["action"] == "webhook.disabled"]
    assert [(e["target_type"], e["actor_user_id"], e["details"]) for e in disabled] == [
        ("webhook", None, {"reason": "every delivery failed for 3 days"})
    ]


async def test_disabling_a_failing_platform_endpoint_is_audited_in_the_platform_log(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, root_token: str
) -> None:
    body = {"url": "http://127.0.0.1:9/never", "events": ["*"]}
    created = (await hooks.post("/api/v1/webhooks", json=body, headers=bearer(root_token))).json()
    await _fail_for_days(hooks_runtime, created["id"])
    async with hooks_runtime.database.transaction(write=False) as session:
        recorded = await session.scalars(select(AuditEvent).where(AuditEvent.target_id == created["id"]))
        actions = [(event.action, event.org_id) for event in recorded]
    assert ("webhook.disabled", None) in actions


async def test_redeliver_sends_an_attempts_event_again(
    hooks: httpx.AsyncClient, tenant: Tenant, worker: OutboxWorker
) -> None:
    with webhook_receiver() as receiver:
        created = await _subscribe(hooks, tenant, receiver.url, ["user.created"])
        await tenant.add_user(password=None)
        await worker.run_once()
        path = tenant.path(f"/webhooks/{created['id']}/deliveries")
        [attempt] = (await hooks.get(path, headers=tenant.auth)).json()["items"]
        response = await hooks.post(f"{path}/{attempt['id']}/redeliver", headers=tenant.auth)
        assert response.status_code == 202, response.text
        await worker.run_once()
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == attempt["event_id"]
    assert json.loads(again.body)["id"] == attempt["event_id"]


async def test_platform_webhooks_receive_every_orgs_events(
    hooks: httpx.AsyncClient, root_token: str, tenant: Tenant, other_tenant: Tenant, worker: OutboxWorker
) -> None:
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "events": ["user.created"]}
        response = await hooks.post("/api/v1/webhooks", json=body, headers=bearer(root_token))
        assert response.status_code == 201, response.text
        assert response.json()["org_id"] is None
        await tenant.add_user(password=None)
        await other_tenant.add_user(password=None)
        await worker.run_once()
    events = [_verified(response.json()["secret"], received) for received in receiver.received]
    assert sorted(event["org_id"] for event in events) == sorted([tenant.id, other_tenant.id])
    assert (await hooks.get("/api/v1/webhooks", headers=tenant.auth)).status_code == 403


async def test_webhooks_are_managed_with_webhooks_write_and_stay_in_their_org(
    hooks: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = await _subscribe(hooks, tenant, "https://hooks.example.com/a")
    viewer = await tenant.add_user(roles=["viewer"])
    assert (await hooks.get(tenant.path("/webhooks"), headers=viewer.auth)).status_code == 403
    elsewhere = other_tenant.path(f"/webhooks/{created['id']}")
    assert (await hooks.get(elsewhere, headers=other_tenant.auth)).status_code == 404
    changed = await hooks.patch(
        tenant.path(f"/webhooks/{created['id']}"),
        json={"url": "https://hooks.example.com/b", "events": ["user.deleted", "user.created"]},
        headers=tenant.auth,
    )
    assert (changed.json()["url"], changed.json()["events"]) == (
        "https://hooks.example.com/b",
        ["user.created", "user.deleted"],
    )
    bad = await hooks.patch(
        tenant.path(f"/webhooks/{created['id']}"), json={"events": ["user.exploded"]}, headers=tenant.auth
    )
    assert bad.status_code == 422
    assert (await hooks.delete(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.auth)).status_code == 204
    assert (await hooks.get(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.auth)).status_code == 404


def _worker_process(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_OUTBOX_LEASE_SECONDS": "1",
        "TENANTRY_OUTBOX_POLL_SECONDS": "0.1",
        "TENANTRY_SECRET_KEY": SECRET_KEY,
        "TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "TENANTRY_LOG_LEVEL": "INFO",
    }
    env.pop("TENANTRY_SMTP_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tenantry", "worker", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


async def test_a_worker_killed_mid_delivery_delivers_again_with_the_same_webhook_id(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, database_url: str
) -> None:
    with webhook_receiver(Receiver(hang_first=True)) as receiver:
        created = await _subscribe(hooks, tenant, receiver.url, ["user.created"])
        await tenant.add_user(password=None)
        worker = _worker_process(database_url)
        try:
            assert await asyncio.to_thread(receiver.first_request.wait, 60), "the worker never reached the receiver"
        finally:
            worker.send_signal(signal.SIGKILL)  # a crash: after sending, before recording
            worker.wait(timeout=30)
        [message] = await _webhook_messages(hooks_runtime)
        assert (message.status, message.attempts) == (PENDING, 1)
        await asyncio.sleep(1.2)  # the dead worker's lease runs out
        restarted = _worker_process(database_url, "--once")
        output, _ = await asyncio.to_thread(restarted.communicate, timeout=60)
        assert restarted.returncode == 0, output.decode()
    hung, delivered = receiver.received
    assert hung.headers["webhook-id"] == delivered.headers["webhook-id"]
    assert _verified(created["secret"], delivered)["type"] == "user.created"
    [message] = await _webhook_messages(hooks_runtime)
    assert (message.status, message.attempts) == (SENT, 2)


@pytest.mark.parametrize("owner", ["org", "platform"])
async def test_answers_with_a_signing_secret_are_never_cached(
    hooks: httpx.AsyncClient, root_token: str, tenant: Tenant, owner: str
) -> None:
    path, auth = (tenant.path("/webhooks"), tenant.auth) if owner == "org" else ("/api/v1/webhooks", bearer(root_token))
    created = await hooks.post(path, json={"url": "https://hooks.example.com/a", "events": ["*"]}, headers=auth)
    assert created.status_code == 201, created.text
    rotated = await hooks.post(f"{path}/{created.json()['id']}/rotate-secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    for answer in (created, rotated):
        assert (answer.headers["cache-control"], answer.headers["pragma"]) == ("no-store", "no-cache")
