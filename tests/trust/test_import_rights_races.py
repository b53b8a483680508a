"""A batch whose rights were read is written under them: whatever ends them (revoking the partner link, removing
or demoting the member here or in the partner organization) waits for that batch to commit, and so a revocation's
report lists the accounts it made, and nothing the caller's rights let through is written after the change
answered. PostgreSQL reads its rows without a lock by default (READ COMMITTED); SQLite's writers take turns."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.console.imports import ImportJob
from tenantry.core.imports import store
from tenantry.core.imports.importer import Importer
from tenantry.runtime import Runtime
from tests.console.test_pages import sign_in
from tests.factories import Member, Tenant, make_tenant
from tests.trust.test_import_rechecks import BATCH, _created_by, _until, upload

ROWS = 2 * BATCH  # the second batch is the file's last: it is written whole, or not at all
LOCK_WAIT_SECONDS = 1.0
"""How long the change is given to answer while the batch it must wait for is held (it answered at once)."""


class CheckGate:
    """Holds the second batch once its rights are read, inside its transaction, until ``open``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.checked, self._opened = asyncio.Event(), asyncio.Event()
        self._calls = 0
        real = Importer._check_rights

        async def gated(importer: Importer, session: AsyncSession, members: list[store.NewMember]) -> None:
            self._calls += 1
            second = self._calls == 2  # (the first batch may still be writing: on PostgreSQL two are at once)
            await real(importer, session, members)
            if second:
                self.checked.set()
                await self._opened.wait()

        monkeypatch.setattr(Importer, "_check_rights", gated)

    def open(self) -> None:
        self._opened.set()


async def _start(client: httpx.AsyncClient, org: Tenant, gate: CheckGate) -> ImportJob:
    """Upload ``ROWS`` rows granting ``admin`` from the console (signed in already); the job once its first batch
    is in and the second's rights are read."""
    job = await upload(client, org, "admin", ROWS)
    await asyncio.wait_for(gate.checked.wait(), 30)
    await _until(lambda: job.summary.created >= BATCH or job.done)
    return job


async def _while_held(gate: CheckGate, change: Awaitable[httpx.Response]) -> httpx.Response:
    """Make ``change`` while the second batch is held; let the batch go on once the change waits for it (or
    answered already)."""
    task = asyncio.ensure_future(change)
    await asyncio.wait({task}, timeout=LOCK_WAIT_SECONDS)
    gate.open()
    return await asyncio.wait_for(task, 30)


async def test_a_revocation_waits_for_the_batch_its_link_let_through_and_reports_its_accounts(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    gate = CheckGate(monkeypatch)
    await sign_in(client, partner.owner.email)
    job = await _start(client, tenant, gate)
    revoke = client.delete(tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth)
    revoked = await _while_held(gate, revoke)
    assert revoked.status_code == 200, revoked.text
    await _until(lambda: job.done)
    report = revoked.json()
    assert job.summary.created == len(report["created_accounts"]) == len(report["disabled"]) == ROWS
    assert await _created_by(runtime, tenant, partner.owner.id) == ROWS


RightsEnd = Callable[[Tenant, Tenant, Member], Awaitable[httpx.Response]]


async def _removed(org: Tenant, partner: Tenant, importer: Member) -> httpx.Response:
    return await org.client.delete(org.path(f"/users/{importer.id}"), headers=org.auth)


async def _demoted(org: Tenant, partner: Tenant, importer: Member) -> httpx.Response:
    body = {"roles": ["viewer"]}
    return await org.client.put(org.path(f"/users/{importer.id}/roles"), json=body, headers=org.auth)


async def _removed_by_the_partner(org: Tenant, partner: Tenant, importer: Member) -> httpx.Response:
    return await partner.client.delete(partner.path(f"/users/{importer.id}"), headers=partner.auth)


@pytest.mark.parametrize(
    ("end", "through_partner"),
    [(_removed, False), (_demoted, False), (_removed_by_the_partner, True)],
    ids=["admin removed", "admin demoted", "partner's member removed by the partner"],
)
async def test_ending_an_importers_rights_waits_for_the_batch_they_let_through(
    client: httpx.AsyncClient,
    runtime: Runtime,
    root_token: str,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    end: RightsEnd,
    through_partner: bool,
) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    if through_partner:
        body = {"partner_org": partner.slug, "role": "admin"}
        assert (await client.post(tenant.path("/partners"), json=body, headers=tenant.auth)).status_code == 201
    importer = await (partner if through_partner else tenant).add_user("importer@acme.example", roles=["admin"])
    gate = CheckGate(monkeypatch)
    await sign_in(client, importer.email)
    job = await _start(client, tenant, gate)
    ended = await _while_held(gate, end(tenant, partner, importer))
    assert ended.status_code in (200, 204), ended.text
    written_when_it_answered = await _created_by(runtime, tenant, importer.id)
    await _until(lambda: job.done)
    assert await _created_by(runtime, tenant, importer.id) == written_when_it_answered == ROWS
