"""An import outlives the request that started it: each batch reads the caller's rights again, so revoking a
partner link, removing an admin or demoting them stops their running import from its next batch, every row
left reported with the reason; so does the end of the sign-in session that started it (signing out, ending every
session, a new password), as it would refuse that session's next request."""

import asyncio
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select

from tenantry.console.imports import JOBS, ImportJob
from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.console.test_pages import sign_in, token_of
from tests.factories import PASSWORD, Member, Tenant, make_tenant
from tests.mailbox import csrf_of

ROWS = 300
BATCH = 100  # the console's batch
NO_ACCESS = "the import stopped: you no longer have access to this organization"
NO_GRANT = "the import stopped: you may no longer grant role 'admin'"
NO_SESSION = "the import stopped: the sign-in session that started it has ended"


class Gate:
    """Holds every batch after the first before its passwords are hashed, until ``open``: the caller's rights
    change between two batches, when the test says."""

    def __init__(self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self._opened = asyncio.Event()
        self._calls = 0
        self.holding = False
        """A batch is held."""
        real = runtime.passwords.hash_many

        async def gated(passwords: list[str]) -> list[str]:
            self._calls += 1
            if self._calls > 1:
                self.holding = True
                await self._opened.wait()
            return await real(passwords)

        monkeypatch.setattr(runtime.passwords, "hash_many", gated)

    def open(self) -> None:
        self._opened.set()


async def upload(client: httpx.AsyncClient, org: Tenant, roles: str, rows: int = ROWS) -> ImportJob:
    """Upload ``rows`` rows granting ``roles`` from the console (signed in already); the job, started."""
    page = f"/console/{org.slug}/import"
    lines = "".join(f"bulk{n:04d}@example.com,F,L,,{roles}\n" for n in range(rows))
    started = await client.post(
        page,
        data={"format": "native", "csrf_token": token_of((await client.get(page)).text)},
        files={"file": ("people.csv", "email,first_name,last_name,password,roles\n" + lines, "text/csv")},
    )
    assert started.status_code == 303, started.text
    found = re.search(r"/import/([0-9a-f]{24})$", started.headers["location"])
    assert found is not None
    return JOBS[found.group(1)]


async def _start(client: httpx.AsyncClient, org: Tenant, roles: str) -> ImportJob:
    """``upload``; the job once its first batch is written."""
    job = await upload(client, org, roles)
    await _until(lambda: job.summary.created == BATCH or job.done)
    assert job.summary.created == BATCH, job.error
    return job


async def _until(done: Callable[[], bool]) -> None:
    for _ in range(600):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _stopped(job: ImportJob, gate: Gate, reason: str) -> None:
    """Let the import go on, and check it stopped after its first batch, reporting every other row."""
    gate.open()
    await _until(lambda: job.done)
    assert (job.summary.created, job.summary.failed, job.error) == (BATCH, ROWS - BATCH, reason)
    left = sorted(job.failures, key=lambda outcome: outcome.line)  # the rows the page's report lists
    assert [outcome.email for outcome in left] == [f"bulk{n:04d}@example.com" for n in range(BATCH, ROWS)]
    assert {outcome.reason for outcome in left} == {reason}


async def _created_by(runtime: Runtime, org: Tenant, user_id: str) -> int:
    async with runtime.database.transaction(write=False) as session:
        statement = select(func.count()).where(
            AuditEvent.org_id == org.id, AuditEvent.action == "user.created", AuditEvent.actor_user_id == user_id
        )
        return int(await session.scalar(statement) or 0)


async def test_revoking_a_partner_stops_its_running_import_and_the_report_holds_all_it_made(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    linked = await tenant.client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    gate = Gate(runtime, monkeypatch)
    await sign_in(client, partner.owner.email)
    job = await _start(client, tenant, "admin")
    revoked = await tenant.client.delete(
        tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth
    )
    assert revoked.status_code == 200, revoked.text
    await _stopped(job, gate, NO_ACCESS)
    report = revoked.json()
    assert len(report["created_accounts"]) == len(report["disabled"]) == BATCH
    assert await _created_by(runtime, tenant, partner.owner.id) == BATCH


RightsEnd = Callable[[Tenant, Member], Awaitable[httpx.Response]]


async def _remove(org: Tenant, admin: Member) -> httpx.Response:
    return await org.client.delete(org.path(f"/users/{admin.id}"), headers=org.auth)


async def _disable(org: Tenant, admin: Member) -> httpx.Response:
    return await org.client.post(org.path(f"/users/{admin.id}/disable"), headers=org.auth)


async def _demote(org: Tenant, admin: Member) -> httpx.Response:
    """To a role that still creates users, but may not grant ``admin``."""
    return await org.client.put(org.path(f"/users/{admin.id}/roles"), json={"roles": ["supervisor"]}, headers=org.auth)


async def _sign_out_everywhere(org: Tenant, admin: Member) -> httpx.Response:
    return await org.client.post("/api/v1/me/sessions/revoke", headers=admin.auth)


async def _change_own_password(org: Tenant, admin: Member) -> httpx.Response:
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase 7"}
    return await org.client.post("/api/v1/me/password", json=body, headers=admin.auth)


async def _password_set_by_owner(org: Tenant, admin: Member) -> httpx.Response:
    body = {"password": "the owner chose this one 7"}
    return await org.client.post(org.path(f"/users/{admin.id}/password"), json=body, headers=org.auth)


async def _sign_out_of_the_console(org: Tenant, admin: Member) -> httpx.Response:
    """The browser's session that started the import (the test's client holds its cookie)."""
    page = await org.client.get("/ui/sign-out")
    return await org.client.post("/ui/sign-out", data={"csrf_token": csrf_of(page.text)})


async def _second_factor_required(org: Tenant, _admin: Member) -> httpx.Response:
    """The organization turns ``mfa_required`` on: the console's session proved a password alone (its next page
    asks for a sign-in with both)."""
    return await org.client.patch(org.path(), json={"mfa_required": True}, headers=org.auth)


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (_remove, NO_ACCESS),
        (_disable, NO_ACCESS),
        (_demote, NO_GRANT),
        (_sign_out_everywhere, NO_SESSION),
        (_change_own_password, NO_SESSION),
        (_password_set_by_owner, NO_SESSION),
        (_sign_out_of_the_console, NO_SESSION),
        (_second_factor_required, NO_SESSION),
    ],
    ids=[
        "removed",
        "disabled",
        "demoted",
        "signed out everywhere",
        "own password changed",
        "password set by the owner",
        "signed out of the console",
        "a second factor required now",
    ],
)
async def test_an_admin_whose_rights_or_session_end_sees_their_running_import_stop(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    end: RightsEnd,
    reason: str,
) -> None:
    admin = await tenant.add_user("admin@acme.example", roles=["admin"])
    gate = Gate(runtime, monkeypatch)
    await sign_in(client, admin.email)
    job = await _start(client, tenant, "admin")
    ended = await end(tenant, admin)
    assert ended.status_code in (200, 204), ended.text
    await _stopped(job, gate, reason)
    assert await _created_by(runtime, tenant, admin.id) == BATCH


async def _sign_out_of_the_api(org: Tenant, admin: Member) -> httpx.Response:
    """Another session of theirs than the console's."""
    return await org.client.post("/api/v1/auth/logout", headers=admin.auth)


@pytest.mark.parametrize("change", [_demote, _sign_out_of_the_api], ids=["demoted", "signed out of another session"])
async def test_an_admin_who_keeps_their_rights_and_session_imports_every_row(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, change: RightsEnd
) -> None:
    admin = await tenant.add_user("admin@acme.example", roles=["admin"])
    gate = Gate(runtime, monkeypatch)
    await sign_in(client, admin.email)
    job = await _start(client, tenant, "viewer")
    changed = await change(tenant, admin)  # a supervisor still creates users and grants ``viewer``
    assert changed.status_code in (200, 204), changed.text
    gate.open()
    await _until(lambda: job.done)
    assert (job.summary.created, job.summary.failed, job.error) == (ROWS, 0, None)


async def test_an_eva_bulk_upload_stops_once_the_token_session_that_sent_it_ends(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await tenant.add_user("admin@acme.example", roles=["admin"])
    monkeypatch.setattr(runtime.settings, "import_batch_size", BATCH)
    gate = Gate(runtime, monkeypatch)
    rows = "".join(f"bulk{n:04d}@example.com;Bulk;;ADMIN;Secret1;;;\n" for n in range(ROWS))
    content = "email;name;company;role;password;environmentUuid;environmentName;bot\n" + rows
    upload = asyncio.create_task(
        client.post(
            f"/compat/eva/eva-user/org/{tenant.id}/users/bulk-create",
            files={"file": ("users.csv", content.encode(), "text/csv")},
            headers=admin.auth,
        )
    )
    await _until(lambda: gate.holding)
    for _ in range(600):  # the first batch committed
        if await _created_by(runtime, tenant, admin.id) == BATCH:
            break
        await asyncio.sleep(0.05)
    signed_out = await client.post("/api/v1/auth/logout", headers=admin.auth)
    assert signed_out.status_code == 204, signed_out.text
    gate.open()
    answered = await upload
    assert answered.status_code == 200, answered.text
    reasons = [reason for failure in answered.json()["errors"] for reason in failure.values()]
    assert reasons == [NO_SESSION] * (ROWS - BATCH)
    assert await _created_by(runtime, tenant, admin.id) == BATCH
