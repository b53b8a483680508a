"""A sign-in that needs a second factor is recorded once, when its second step is answered, by every way of
finishing it (token endpoint, hosted pages, magic link, the OpenID provider's flow, enrolment); a wrong second
factor is a failed sign-in; a required password change finishes a sign-in too."""

import httpx
import pyotp
from sqlalchemy import select

from tenantry.core.audit.models import AuditEvent
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Member, Tenant, accept_invitation
from tests.mailbox import csrf_of, submit
from tests.mfa.conftest import TotpClock, answer, enrol, recover, sign_in, totp_clock
from tests.oidc.flow import authorize_url, query_of, register, sign_in_at

__all__ = ["totp_clock"]

Recorded = list[tuple[str, str | None, dict[str, object]]]
TWO_STEPS = {"method": "password", "second_factor": "otp"}
WRONG_SECOND = {**TWO_STEPS, "reason": "second_factor"}


async def _sign_ins(runtime: Runtime, user_id: str) -> Recorded:
    async with runtime.database.transaction(write=False) as session:
        statement = (
            select(AuditEvent)
            .where(AuditEvent.target_id == user_id, AuditEvent.action.like("user.sign%"))
            .order_by(AuditEvent.created_at, AuditEvent.org_id)
        )
        return [(event.action, event.org_id, event.details) for event in await session.scalars(statement)]


async def _in_two_orgs(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant) -> Member:
    member = await tenant.add_user()
    added = await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    assert added.status_code == 201, added.text
    await accept_invitation(runtime, member.id, other_tenant.id)
    return member


async def test_the_token_endpoints_second_step_records_the_sign_in_in_each_org_once(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await _in_two_orgs(client, runtime, tenant, other_tenant)
    app = await enrol(client, member.token, totp_clock)
    before = len(await _sign_ins(runtime, member.id))
    mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
    assert (await _sign_ins(runtime, member.id))[before:] == []  # not signed in yet
    assert (await answer(client, mfa_token, "000000")).status_code == 400
    assert (await answer(client, mfa_token, app.code_at(totp_clock.now))).status_code == 200
    orgs = sorted([tenant.id, other_tenant.id])
    assert (await _sign_ins(runtime, member.id))[before:] == [
        *[("user.sign_in_failed", org, WRONG_SECOND) for org in orgs],
        *[("user.signed_in", org, TWO_STEPS) for org in orgs],
    ]
    again = (await sign_in(client, member.email)).json()["mfa_token"]
    assert (await recover(client, again, app.recovery_codes[0])).status_code == 200
    assert (await _sign_ins(runtime, member.id))[-2:] == [
        ("user.signed_in", org, {"method": "password", "second_factor": "recovery_code"}) for org in orgs
    ]


async def test_a_hosted_sign_in_naming_an_org_is_recorded_in_every_org_after_its_second_step(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await _in_two_orgs(client, runtime, tenant, other_tenant)
    app = await enrol(client, member.token, totp_clock)
    before = len(await _sign_ins(runtime, member.id))
    fields = {"email": member.email, "password": PASSWORD, "org": other_tenant.slug}
    first = await submit(client, f"/ui/sign-in?org={other_tenant.slug}", "/ui/sign-in", fields)
    assert first.headers["location"] == f"/ui/mfa?org={other_tenant.slug}"
    page = await client.get(first.headers["location"])
    wrong = await client.post("/ui/mfa", data={"code": "000000", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 400
    # The org travels in the challenge, not in the form: a form naming another org changes nothing.
    fields = {"code": app.code_at(totp_clock.now), "org": tenant.slug, "csrf_token": csrf_of(page.text)}
    assert (await client.post("/ui/mfa", data=fields)).status_code == 303
    orgs = sorted([tenant.id, other_tenant.id])  # the session is the account's: every org hears of it
    assert (await _sign_ins(runtime, member.id))[before:] == [
        *[("user.sign_in_failed", org, WRONG_SECOND) for org in orgs],
        *[("user.signed_in", org, TWO_STEPS) for org in orgs],
    ]


async def test_enrolling_during_sign_in_records_the_sign_in(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    assert (await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)).status_code == 200
    before = len(await _sign_ins(runtime, member.id))
    mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
    started = await client.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa_token})
    confirm = "/api/v1/auth/mfa/totp/confirm"
    assert (await client.post(confirm, json={"mfa_token": mfa_token, "code": "000000"})).status_code == 422
    code = pyotp.TOTP(started.json()["secret"]).at(totp_clock.now)
    assert (await client.post(confirm, json={"mfa_token": mfa_token, "code": code})).status_code == 200
    assert (await _sign_ins(runtime, member.id))[before:] == [
        ("user.sign_in_failed", tenant.id, WRONG_SECOND),
        ("user.signed_in", tenant.id, TWO_STEPS),
    ]


async def test_a_magic_link_with_a_second_step_is_recorded_once_when_it_is_answered(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    app = await enrol(client, member.token, totp_clock)
    link = (await client.post(tenant.path(f"/users/{member.id}/magic-link"), headers=tenant.auth)).json()["url"]
    token = link.split("token=")[1]
    before = len(await _sign_ins(runtime, member.id))
    used = await submit(client, f"/ui/magic?token={token}", "/ui/magic", {"token": token})
    assert used.headers["location"] == f"/ui/mfa?org={tenant.slug}"
    assert (await _sign_ins(runtime, member.id))[before:] == []
    done = await submit(client, used.headers["location"], "/ui/mfa", {"code": app.code_at(totp_clock.now)})
    assert done.headers["location"] == "/ui/account"
    assert (await _sign_ins(runtime, member.id))[before:] == [
        ("user.signed_in", tenant.id, {"method": "magic_link", "second_factor": "otp"})
    ]


async def test_the_openid_flows_second_step_records_the_sign_in_once(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    app = await enrol(client, member.token, totp_clock)
    registered = await register(client, root_token)
    before = len(await _sign_ins(runtime, member.id))
    to_sign_in = await client.get(authorize_url(registered["client_id"]))
    second_step = (await sign_in_at(client, to_sign_in.headers["location"], member.email)).headers["location"]
    page = await client.get(second_step)
    fields = {"code": app.code_at(totp_clock.now), "method": "otp", "csrf_token": csrf_of(page.text)}
    fields["continue"] = query_of(second_step)["continue"]
    verified = await client.post("/ui/mfa", data=fields)
    assert verified.status_code == 303, verified.text
    back = await client.get(verified.headers["location"])
    assert "code" in query_of(back.headers["location"])
    assert (await _sign_ins(runtime, member.id))[before:] == [("user.signed_in", tenant.id, TWO_STEPS)]


async def test_a_required_password_change_finishes_the_sign_in_and_records_it(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    member = await tenant.add_user()  # an administrator sets passwords of accounts only their org holds
    temporary = "temporary from the admin"
    body = {"password": temporary, "require_change": True}
    assert (await client.post(tenant.path(f"/users/{member.id}/password"), json=body, headers=tenant.auth)).is_success
    before = len(await _sign_ins(runtime, member.id))
    fields = {"email": member.email, "password": temporary, "org": tenant.slug}
    page = await submit(client, f"/ui/sign-in?org={tenant.slug}", "/ui/sign-in", fields)
    ticket = page.text.split('name="change_ticket" value="')[1].split('"')[0]
    chosen = {"change_ticket": ticket, "password": "chosen on the page", "password_repeat": "chosen on the page"}
    chosen.update(org=tenant.slug, csrf_token=csrf_of(page.text))
    done = await client.post("/ui/change-password", data=chosen)
    assert done.status_code == 303, done.text
    assert (await _sign_ins(runtime, member.id))[before:] == [("user.signed_in", tenant.id, {"method": "password"})]
