"""The outbox worker: SMTP delivery, retries with backoff, permanent failures, concurrency, and crashes."""

import asyncio
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlalchemy import select, update

from tenantry.core.clients.models import AuthorizationCode
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import FAILED, PENDING, SENT, OutboxMessage
from tenantry.core.tokens.models import RefreshToken
from tenantry.db.base import utcnow
from tenantry.mail.sinks import DeliveryError, SmtpSink
from tenantry.runtime import Runtime
from tenantry.worker import OutboxWorker
from tests.conftest import settings_for
from tests.factories import Tenant, login
from tests.mailbox import CollectingSink
from tests.oidc.flow import authorize_url, code_for, register
from tests.smtp_server import Inbox, smtp_server
from tests.statements import sent_statements


async def _invite(client: httpx.AsyncClient, tenant: Tenant, email: str = "new@example.com") -> None:
    response = await client.post(tenant.path("/users"), json={"email": email}, headers=tenant.auth)
    assert response.status_code == 201


async def _messages(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.database.transaction(write=False) as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _smtp_worker(runtime: Runtime, database_url: str, smtp_url: str, **overrides: Any) -> OutboxWorker:
    settings = settings_for(database_url, smtp_url=smtp_url, smtp_security="none", **overrides)
    worker_runtime = Runtime(**{**runtime.__dict__, "settings": settings})
    return OutboxWorker(worker_runtime, email_sink=SmtpSink(settings))


async def test_email_goes_out_over_smtp_with_its_id_as_message_id(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    with smtp_server() as (inbox, url):
        assert await _smtp_worker(runtime, database_url, url).run_once() == 1
    [message] = await _messages(runtime)
    [received] = inbox.accepted
    assert received["To"] == "new@example.com"
    assert received["From"] == "Tenantry <no-reply@localhost>"
    assert received["Subject"] == "Acme invited you: set your password"
    assert received["Message-ID"] == f"<{message.id}@localhost>"
    assert received.get_content_type() == "multipart/alternative"
    text, html = (part.get_content() for part in received.iter_parts())
    assert "/ui/activate?token=" in text
    assert "<strong>Acme</strong>" in html
    assert (message.status, message.attempts, message.payload) == (SENT, 1, {})  # the link is not kept


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_credentials_come_from_the_url(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    with smtp_server(login=("mailer", "p@ss:word")) as (inbox, url):
        worker = _smtp_worker(runtime, database_url, url.replace("smtp://", "smtp://mailer:p%40ss%3Aword@"))
        assert await worker.run_once() == 1
    assert len(inbox.accepted) == 1


async def _make_due(runtime: Runtime) -> None:
    async with runtime.database.transaction() as session:
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


async def test_failed_deliveries_are_retried_with_backoff_then_given_up(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    nowhere = _smtp_worker(runtime, database_url, "smtp://127.0.0.1:9", outbox_max_attempts=3)
    delays = []
    for attempt in (1, 2):
        started = utcnow()
        await nowhere.run_once()
        [message] = await _messages(runtime)
        assert (message.status, message.attempts) == (PENDING, attempt)
        assert message.last_error
        delays.append(round((message.next_attempt_at - started).total_seconds()))
        await nowhere.run_once()  # not due yet: nothing happens
        assert (await _messages(runtime))[0].attempts == attempt
        await _make_due(runtime)
    assert delays == [30, 60]
    await nowhere.run_once()
    [message] = await _messages(runtime)
    assert (message.status, message.attempts, message.payload) == (FAILED, 3, {})


async def test_a_refused_recipient_fails_at_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    with smtp_server(Inbox(refuse_recipients=True)) as (_, url):
        await _smtp_worker(runtime, database_url, url).run_once()
    [message] = await _messages(runtime)
    assert (message.status, message.attempts) == (FAILED, 1)
    assert "550" in (message.last_error or "")


async def test_a_slow_smtp_server_never_gets_an_email_twice(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    lease, timeout = 2.0, 0.9
    # Each reply comes within the timeout, the whole conversation (three late replies) not within the lease.
    with smtp_server(Inbox(reply_after=0.75)) as (inbox, url):
        workers = [
            _smtp_worker(runtime, database_url, url, outbox_lease_seconds=lease, smtp_timeout_seconds=timeout)
            for _ in range(2)
        ]
        first = asyncio.create_task(workers[0].run_once())
        await asyncio.sleep(lease + 0.05)  # the first worker's lease has run out: the second may take the message
        await asyncio.gather(first, workers[1].run_once())
        await asyncio.sleep(3 * 0.75)  # whatever the server was still answering
    assert [copies for copies in inbox.by_message_id().values() if copies > 1] == []
    [message] = await _messages(runtime)
    assert (message.status, message.attempts) == (PENDING, 1)  # cut off at the timeout, to be tried again
    assert "SMTP conversation" in (message.last_error or "")


def test_an_smtp_timeout_of_half_the_lease_or_more_is_refused(database_url: str) -> None:
    with pytest.raises(ValidationError, match="TENANTRY_SMTP_TIMEOUT_SECONDS"):
        settings_for(database_url, smtp_url="smtp://mail.example", outbox_lease_seconds=60, smtp_timeout_seconds=30)
    assert settings_for(database_url, outbox_lease_seconds=1)  # no SMTP: no conversation to time


async def test_concurrent_workers_deliver_each_message_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    for index in range(12):
        await _invite(client, tenant, f"user{index}@example.com")
    sinks = [CollectingSink(), CollectingSink(), CollectingSink()]
    await asyncio.gather(*(OutboxWorker(runtime, email_sink=sink).run_once() for sink in sinks))
    delivered = [mail.message_id for sink in sinks for mail in sink.sent]
    assert len(delivered) == len(set(delivered)) == 12
    assert {message.status for message in await _messages(runtime)} == {SENT}


def _worker_process(database_url: str, smtp_url: str | None, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_OUTBOX_LEASE_SECONDS": "2",
        "TENANTRY_SMTP_TIMEOUT_SECONDS": "0.9",  # less than half the lease
        "TENANTRY_OUTBOX_POLL_SECONDS": "0.1",
        "TENANTRY_SMTP_SECURITY": "none",
        "TENANTRY_LOG_LEVEL": "INFO",
    }
    env.pop("TENANTRY_SMTP_URL", None)
    if smtp_url:
        env["TENANTRY_SMTP_URL"] = smtp_url
    return subprocess.Popen(
        [sys.executable, "-m", "tenantry", "worker", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


async def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    with smtp_server(Inbox(hang_first=True)) as (inbox, url):
        worker = _worker_process(database_url, url)
        try:
            assert await asyncio.to_thread(inbox.first_data.wait, 60), "the worker never reached the SMTP server"
        finally:
            worker.send_signal(signal.SIGKILL)  # a crash: between sending and recording
            worker.wait(timeout=30)
        [message] = await _messages(runtime)
        assert (message.status, message.attempts) == (PENDING, 1)
        assert message.locked_until is not None
        assert inbox.accepted == []
        await asyncio.sleep(2.2)  # the dead worker's lease runs out
        restarted = _worker_process(database_url, url, "--once")
        output, _ = await asyncio.to_thread(restarted.communicate, timeout=60)
        assert restarted.returncode == 0, output.decode()
        again = _worker_process(database_url, url, "--once")
        await asyncio.to_thread(again.communicate, timeout=60)
        assert again.returncode == 0
    [message] = await _messages(runtime)
    assert (message.status, message.attempts) == (SENT, 2)
    assert inbox.by_message_id() == {f"<{message.id}@localhost>": 1}


async def test_without_smtp_the_worker_writes_mail_and_links_to_the_log(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _invite(client, tenant)
    process = _worker_process(database_url, None, "--once")
    output, _ = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0
    assert b"new@example.com" in output
    assert b"/ui/activate?token=" in output
    assert b"1 message(s) attempted" in output
    assert {message.status for message in await _messages(runtime)} == {SENT}


async def test_settled_messages_are_purged_after_retention(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    await _invite(client, tenant)
    worker = OutboxWorker(runtime, email_sink=CollectingSink())
    await worker.run_once()
    await worker.purge()
    assert len(await _messages(runtime)) == 1
    async with runtime.database.transaction() as session:
        await session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=31)))
    await worker.purge()
    assert await _messages(runtime) == []


async def test_refresh_tokens_and_codes_are_purged_once_expired_past_retention(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, root_token: str
) -> None:
    app = await register(client, root_token)
    for _ in range(2):
        await login(client, tenant.owner.email)
        await code_for(client, authorize_url(app["client_id"]), tenant.owner.email)
    kept: list[str] = []
    async with runtime.database.transaction() as session:
        for model in (RefreshToken, AuthorizationCode):
            old, recent = list(await session.scalars(select(model.id).order_by(model.id)))[-2:]
            await session.execute(update(model).where(model.id == old).values(expires_at=utcnow() - timedelta(days=31)))
            await session.execute(
                update(model).where(model.id == recent).values(expires_at=utcnow() - timedelta(days=29))
            )
            kept.append(recent)
    await OutboxWorker(runtime).purge()
    async with runtime.database.transaction(write=False) as session:
        for model in (RefreshToken, AuthorizationCode):
            expired = select(model.id).where(model.expires_at < utcnow()).order_by(model.id)
            assert list(await session.scalars(expired)) == [kept.pop(0)]


@pytest.mark.parametrize("lane_pass", ["_mail_pass", "_webhook_pass"])
async def test_the_worker_is_alive_while_it_runs_and_moves_and_not_once_a_lane_is_stuck_or_stopped(
    runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch, lane_pass: str
) -> None:
    settings = settings_for(database_url, outbox_poll_seconds=0.05, outbox_lease_seconds=0.5)
    worker = OutboxWorker(Runtime(**{**runtime.__dict__, "settings": settings}))
    assert not worker.alive  # not started
    worker.start()
    await asyncio.sleep(0.2)
    assert worker.alive

    released = asyncio.Event()

    async def stuck() -> int:
        await released.wait()
        return 0

    monkeypatch.setattr(worker, lane_pass, stuck)
    await asyncio.sleep(1.0)  # the lane's pass in hand ends; its next one hangs for longer than a lease
    assert not worker.alive
    released.set()
    await worker.stop()
    assert not worker.alive


def _emails_counted() -> dict[str, float]:
    return {
        result: REGISTRY.get_sample_value("tenantry_email_deliveries_total", {"result": result}) or 0.0
        for result in ("succeeded", "failed")
    }


async def test_email_deliveries_are_counted_by_result(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    before = _emails_counted()
    await _invite(client, tenant, "counted@example.com")
    with smtp_server() as (_, url):
        assert await _smtp_worker(runtime, database_url, url).run_once() == 1
    await _invite(client, tenant, "refused@example.com")
    with smtp_server(Inbox(refuse_recipients=True)) as (_, url):
        assert await _smtp_worker(runtime, database_url, url).run_once() == 1
    after = _emails_counted()
    assert {result: after[result] - before[result] for result in after} == {"succeeded": 1.0, "failed": 1.0}


_LEADING_WITH = re.compile(r"^WITH\b.*?\)\s*(?=(UPDATE|INSERT|DELETE|SELECT)\b)", re.DOTALL)


def _outbox_writes(statements: list[str]) -> list[str]:
    """The writes among ``statements`` to the outbox's table, by verb (a claim's leading WITH put aside)."""
    mains = [_LEADING_WITH.sub("", statement) for statement in statements]
    verbs = [(main.split()[0], main.split("WHERE")[0]) for main in mains]
    return [verb for verb, head in verbs if verb in ("UPDATE", "INSERT", "DELETE") and "outbox_messages" in head]


async def test_a_batch_is_leased_in_one_statement_and_its_emails_recorded_in_one(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    for index in range(5):
        await _invite(client, tenant, f"user{index}@example.com")
    sink = CollectingSink()
    with sent_statements(runtime.database) as statements:
        assert await OutboxWorker(runtime, email_sink=sink).run_once() == 5
    assert [mail.to for mail in sink.sent] == [f"user{index}@example.com" for index in range(5)]  # oldest first
    assert _outbox_writes(statements) == ["UPDATE", "UPDATE"]  # the lease, then the record
    messages = await _messages(runtime)
    assert {(message.status, message.attempts, message.locked_until) for message in messages} == {(SENT, 1, None)}


async def test_a_claim_leases_no_more_messages_than_its_limit(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """PostgreSQL ran the limited subquery again for each row it updated, and each run found the next rows free:
    a claim of 2 leased all 5, and a worker held (and delivered in turn) every message due."""
    for index in range(5):
        await _invite(client, tenant, f"user{index}@example.com")
    async with runtime.database.transaction() as session:
        claimed = await outbox.claim_due(session, 2, 60)
    leased = [message.id for message in await _messages(runtime) if message.locked_until is not None]
    assert sorted(message.id for message in claimed) == sorted(leased)
    assert len(leased) == 2


async def test_a_stopping_worker_gives_back_the_messages_it_did_not_start(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    for index in range(3):
        await _invite(client, tenant, f"user{index}@example.com")
    worker = OutboxWorker(runtime, email_sink=CollectingSink())

    class StopAfterOne(CollectingSink):
        async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
            await super().deliver(message_id, payload)
            await worker.stop()  # (not started: only asks the pass in hand to stop)

    worker._email = sink = StopAfterOne()
    assert await worker.run_once() == 1
    [delivered] = sink.sent
    messages = {message.id: message for message in await _messages(runtime)}
    first = messages.pop(delivered.message_id)
    assert (first.status, first.attempts) == (SENT, 1)
    rest = messages.values()
    assert {(message.status, message.attempts, message.locked_until) for message in rest} == {(PENDING, 0, None)}
    next_worker = OutboxWorker(runtime, email_sink=CollectingSink())
    assert await next_worker.run_once() == 2  # at once: no lease to wait for


def _with_lease(runtime: Runtime, database_url: str, seconds: float) -> Runtime:
    return Runtime(**{**runtime.__dict__, "settings": settings_for(database_url, outbox_lease_seconds=seconds)})


async def test_a_batch_starts_no_message_once_half_its_lease_is_gone(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    for index in range(3):
        await _invite(client, tenant, f"user{index}@example.com")

    class Slow(CollectingSink):
        async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
            await asyncio.sleep(0.3)
            await super().deliver(message_id, payload)

    worker = OutboxWorker(_with_lease(runtime, database_url, 1.0), email_sink=Slow())
    # Two start within the first half second of the lease, and the pass leases the third again for itself.
    assert await worker.run_once() == 3
    messages = await _messages(runtime)
    assert [(message.status, message.attempts) for message in messages] == [(SENT, 1)] * 3


async def test_emails_sent_before_a_worker_is_cancelled_are_recorded(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    for index in range(2):
        await _invite(client, tenant, f"user{index}@example.com")
    second_started = asyncio.Event()

    class HangOnSecond(CollectingSink):
        async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
            if self.sent:
                second_started.set()
                await asyncio.Event().wait()
            await super().deliver(message_id, payload)

    sink = HangOnSecond()
    task = asyncio.create_task(OutboxWorker(runtime, email_sink=sink).run_once())
    await asyncio.wait_for(second_started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    messages = {message.recipient: message for message in await _messages(runtime)}
    first, second = messages["user0@example.com"], messages["user1@example.com"]
    assert (first.status, first.payload) == (SENT, {})  # not sent again when the lease runs out
    assert (second.status, second.attempts) == (PENDING, 1)
    assert second.locked_until is not None  # its fate unknown: it goes out again once the lease runs out
    assert [mail.to for mail in sink.sent] == ["user0@example.com"]


class _Timed(CollectingSink):
    """Delivers after a delay per recipient, noting who delivered what."""

    def __init__(self, log: list[tuple[str, str]], name: str, delays: dict[str, float]) -> None:
        super().__init__()
        self.log, self.name, self.delays = log, name, delays

    async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
        self.log.append((self.name, payload["to"]))
        await asyncio.sleep(self.delays.get(payload["to"], 0))
        await super().deliver(message_id, payload)


async def _two_invitations(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str) -> Runtime:
    """Invitations to m1@ and m2@example.com queued; ``runtime`` with a lease of one second."""
    for email in ("m1@example.com", "m2@example.com"):
        await _invite(client, tenant, email)
    return _with_lease(runtime, database_url, 1.0)


async def test_a_worker_whose_lease_ran_out_gives_back_nothing_another_worker_holds(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    leased = await _two_invitations(client, tenant, runtime, database_url)
    log: list[tuple[str, str]] = []
    slow = OutboxWorker(leased, email_sink=_Timed(log, "A", {"m1@example.com": 1.3}))  # outlasts its lease
    first = asyncio.create_task(slow.run_once())
    await asyncio.sleep(1.05)
    # B leases both once A's lease ran out, and is still on m1 when A is done with it.
    second = OutboxWorker(leased, email_sink=_Timed(log, "B", {"m1@example.com": 0.3}))
    await asyncio.gather(first, second.run_once())
    assert [to for _, to in log].count("m2@example.com") == 1  # A did not end B's lease on m2 to send it itself


async def test_a_worker_whose_lease_ran_out_records_no_failure_over_another_workers_delivery(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    """A failure recorded after the lease ran out gave the message up (or ended the lease) while the worker that
    leased it next was delivering it: the email went out and stood as failed, its payload gone."""
    leased = await _two_invitations(client, tenant, runtime, database_url)
    log: list[tuple[str, str]] = []

    class RefusedLate(_Timed):
        async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
            await asyncio.sleep(1.3)  # outlasts the lease, then the server refuses for good
            raise DeliveryError("550 no such user", permanent=True)

    first = asyncio.create_task(OutboxWorker(leased, email_sink=RefusedLate(log, "A", {})).run_once())
    await asyncio.sleep(1.05)
    second = OutboxWorker(leased, email_sink=_Timed(log, "B", {"m1@example.com": 0.5}))
    await asyncio.gather(first, second.run_once())
    assert ("B", "m1@example.com") in log
    assert {message.status for message in await _messages(leased)} == {SENT}


async def test_emails_sent_early_in_a_batch_are_recorded_before_a_slow_one_outlasts_the_lease(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    leased = await _two_invitations(client, tenant, runtime, database_url)
    log: list[tuple[str, str]] = []
    delays = {"m1@example.com": 0.45, "m2@example.com": 0.6}  # m2 starts before half the lease, ends after it
    first = asyncio.create_task(OutboxWorker(leased, email_sink=_Timed(log, "A", delays)).run_once())
    await asyncio.sleep(1.02)
    await OutboxWorker(leased, email_sink=_Timed(log, "B", {})).run_once()
    await first
    assert [to for _, to in log].count("m1@example.com") == 1


async def test_a_batch_that_fails_records_what_went_out_and_gives_back_what_it_did_not_start(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(4):
        await _invite(client, tenant, f"user{index}@example.com")

    class RefuseSecond(CollectingSink):
        async def deliver(self, message_id: str, payload: dict[str, Any]) -> None:
            if self.sent:
                raise DeliveryError("try later")
            await super().deliver(message_id, payload)

    worker = OutboxWorker(runtime, email_sink=RefuseSecond())

    async def database_away(*_: Any, **__: Any) -> None:
        raise ConnectionError("the database went away while recording the failure")

    monkeypatch.setattr(worker, "_failed", database_away)
    with pytest.raises(ConnectionError):
        await worker.run_once()
    by_recipient = {message.recipient: message for message in await _messages(runtime)}
    assert by_recipient["user0@example.com"].status == SENT  # not mailed again when its lease runs out
    refused = by_recipient["user1@example.com"]  # its fate unknown: leased until the lease runs out
    assert (refused.status, refused.attempts) == (PENDING, 1)
    assert refused.locked_until is not None
    for never_tried in ("user2@example.com", "user3@example.com"):  # not charged an attempt, free at once
        message = by_recipient[never_tried]
        assert (message.status, message.attempts, message.locked_until) == (PENDING, 0, None)
