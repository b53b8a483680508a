"""Password sign-ins and failures are audited (and are events) in the account's organizations (those it
joined: an organization that only invited it hears nothing, see tests/trust/test_foreign_reads.py)."""

import httpx
from sqlalchemy import select

from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, accept_invitation
from tests.mailbox import submit


async def _sign_ins(runtime: Runtime, user_id: str) -> list[tuple[str, str | None, dict[str, object]]]:
    async with runtime.database.transaction(write=False) as session:
        statement = (
            select(AuditEvent)
            .where(AuditEvent.target_id == user_id, AuditEvent.action.like("user.sign%"))
            .order_by(AuditEvent.created_at, AuditEvent.org_id)
        )
        return [(event.action, event.org_id, event.details) for event in await session.scalars(statement)]


async def _token(client: httpx.AsyncClient, email: str, password: str) -> int:
    body = {"grant_type": "password", "username": email, "password": password}
    return (await client.post("/api/v1/auth/token", data=body)).status_code


async def test_sign_ins_and_failures_are_audited_in_each_org_of_the_account(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    member = await tenant.add_user("both@example.com", password=PASSWORD)
    added = await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    assert added.status_code == 201, added.text
    await accept_invitation(runtime, member.id, other_tenant.id)
    before = len(await _sign_ins(runtime, member.id))
    assert await _token(client, member.email, "wrong password") == 400
    assert await _token(client, member.email, PASSWORD) == 200
    recorded = (await _sign_ins(runtime, member.id))[before:]
    orgs = sorted([tenant.id, other_tenant.id])
    failed = {"method": "password", "reason": "bad_credentials"}
    assert recorded == [("user.sign_in_failed", org, failed) for org in orgs] + [
        ("user.signed_in", org, {"method": "password"}) for org in orgs
    ]


async def test_a_disabled_accounts_sign_in_is_audited_as_failed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    member = await tenant.add_user("disabled@example.com")
    assert (await client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)).status_code == 200
    assert await _token(client, member.email, PASSWORD) == 400
    assert (await _sign_ins(runtime, member.id))[-1] == (
        "user.sign_in_failed",
        tenant.id,
        {"method": "password", "reason": "disabled"},
    )


async def test_a_hosted_sign_in_naming_an_org_is_audited_in_every_org_of_the_account(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The session a sign-in opens is the account's, usable in every organization it joined: naming one
    (which anyone can) hides the sign-in from none of the others."""
    member = await tenant.add_user("hosted@example.com")
    await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    await accept_invitation(runtime, member.id, other_tenant.id)
    before = len(await _sign_ins(runtime, member.id))
    form = {"email": member.email, "password": PASSWORD, "org": other_tenant.slug}
    response = await submit(client, f"/ui/sign-in?org={other_tenant.slug}", "/ui/sign-in", form)
    assert response.status_code in (200, 303), response.text
    recorded = (await _sign_ins(runtime, member.id))[before:]
    assert sorted((action, org) for action, org, _ in recorded) == sorted(
        [("user.signed_in", tenant.id), ("user.signed_in", other_tenant.id)]
    )


async def test_a_sign_in_naming_an_organization_the_account_did_not_join_is_still_audited_in_its_own(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Anyone may name any organization on the hosted sign-in (``?org=``, or an application of another
    organization): that hides neither a failure nor a success from the organizations the account joined,
    and tells the named one nothing."""
    victim = await tenant.add_user("victim@example.com")
    before = len(await _sign_ins(runtime, victim.id))
    page, fields = f"/ui/sign-in?org={other_tenant.slug}", {"email": victim.email, "org": other_tenant.slug}
    wrong = await submit(client, page, "/ui/sign-in", {**fields, "password": "not the password"})
    assert wrong.status_code == 400
    right = await submit(client, page, "/ui/sign-in", {**fields, "password": PASSWORD})
    assert (right.status_code, right.headers["location"]) == (303, "/ui/account")
    recorded = [(action, org) for action, org, _ in (await _sign_ins(runtime, victim.id))[before:]]
    assert recorded == [("user.sign_in_failed", tenant.id), ("user.signed_in", tenant.id)]
