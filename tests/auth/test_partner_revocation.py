"""Revoking a partner reports the accounts it brought in, and can disable them (issue 14, finding 6)."""

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from tenantry.core.audit.models import AuditEvent
from tenantry.core.memberships.models import MEMBERSHIP_DISABLED, Membership
from tenantry.core.partners import revocation
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.models import USER_DISABLED, User
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Member, Tenant, bearer, make_tenant, token_for
from tests.locks import account_locks
from tests.mailbox import Mailbox, csrf_of
from tests.snapshots import every_row

TELM = "/compat/telm/api/auth/auth"


@pytest.fixture
async def partner(client: httpx.AsyncClient, root_token: str) -> Tenant:
    return await make_tenant(client, root_token, "partner-co")


async def _backdoors(client: httpx.AsyncClient, customer: Tenant, partner: Tenant) -> tuple[str, str]:
    """The partner, acting in its customer, creates one account natively and one through telm."""
    linked = await client.post(
        customer.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=customer.auth
    )
    assert linked.status_code == 201, linked.text
    native = await client.post(
        customer.path("/users"),
        json={"email": "backdoor-native@example.com", "first_name": "B", "password": PASSWORD},
        headers=partner.auth,
    )
    assert native.status_code == 201, native.text
    query = {"email": "backdoor-telm@example.com", "first_name": "B", "last_name": "D", "role": "user"}
    telm = await client.post(
        f"{TELM}/{customer.slug}/users",
        params={**query, "password": PASSWORD},
        headers={"Authentication": f"Bearer {partner.owner.token}"},
    )
    assert telm.status_code == 200, telm.text
    found = await client.get(customer.path("/users?q=backdoor-telm"), headers=customer.auth)
    return native.json()["id"], found.json()["items"][0]["id"]


async def _sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )


async def test_revoking_reports_and_disables_what_the_partner_created(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, partner: Tenant
) -> None:
    native_id, telm_id = await _backdoors(client, tenant, partner)
    await tenant.add_user("own-member@example.com")  # created by the customer itself: not reported
    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    report = revoked.json()
    assert [(a["id"], a["email"], a["status"]) for a in report["created_accounts"]] == [
        (native_id, "backdoor-native@example.com", "disabled"),
        (telm_id, "backdoor-telm@example.com", "disabled"),
    ]
    assert report["disabled"] == [native_id, telm_id]
    for email in ("backdoor-native@example.com", "backdoor-telm@example.com"):
        assert (await _sign_in(client, email)).json()["error"] == "invalid_grant"
    async with runtime.database.transaction(write=False) as session:
        event = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "partner.revoked"))).one()
        created = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.target_id == native_id)
            )
        ).one()
    assert (event.org_id, event.target_id, event.actor_user_id) == (tenant.id, partner.id, tenant.owner.id)
    brought_in = [native_id, telm_id]
    assert event.details == {
        "created_accounts": brought_in,
        "disabled": brought_in,
        "readdressed_accounts": [],
        "signed_out_accounts": [],
    }
    assert (created.partner_org_id, created.actor_user_id) == (partner.id, partner.owner.id)

    # The partner's members no longer reach the customer on any surface, and change nothing trying.
    before = await every_row(runtime)
    native = await client.get(tenant.path(f"/users/{native_id}"), headers=partner.auth)
    telm = await client.get(
        f"{TELM}/{tenant.slug}/users/backdoor-telm@example.com",
        headers={"Authentication": f"Bearer {partner.owner.token}"},
    )
    disabled = await client.post(tenant.path(f"/users/{tenant.owner.id}/disable"), headers=partner.auth)
    assert [native.status_code, telm.status_code, disabled.status_code] == [404, 404, 404]
    assert await every_row(runtime) == before


async def test_without_the_option_the_accounts_are_only_reported(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    native_id, telm_id = await _backdoors(client, tenant, partner)
    report = (await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)).json()
    assert [(a["id"], a["status"]) for a in report["created_accounts"]] == [(native_id, "active"), (telm_id, "active")]
    assert report["disabled"] == []
    assert (await _sign_in(client, "backdoor-native@example.com")).status_code == 200


async def test_revoking_ends_the_sessions_a_partner_opened_with_magic_links(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    """A magic link minted while acting (natively or through saleschat) outlived the link as a browser
    session of the member, console included; revoking ends it, and the link not spent yet, and says so."""
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    alice = await tenant.add_user("alice@example.com", roles=["admin"])
    bob = await tenant.add_user("bob@example.com", roles=["viewer"])
    bystander = await tenant.add_user("carol@example.com", roles=["viewer"])
    native = await client.post(tenant.path(f"/users/{alice.id}/magic-link"), headers=partner.auth)
    assert native.status_code == 201, native.text
    saleschat = await client.get(f"/compat/saleschat/v1/org/{tenant.id}/user/{bob.id}/magiclink", headers=partner.auth)
    assert saleschat.status_code == 200, saleschat.text
    unspent = parse_qs(urlsplit(saleschat.json()["url"]).query)["token"][0]
    spent = parse_qs(urlsplit(native.json()["url"]).query)["token"][0]
    opened = await client.get(f"/ui/magic?token={spent}")
    assert (
        await client.post("/ui/magic", data={"token": spent, "csrf_token": csrf_of(opened.text)})
    ).status_code == 303
    assert (await client.get(f"/console/{tenant.slug}/members")).status_code == 200  # the partner, as alice

    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    reported = {account["email"] for account in revoked.json()["signed_out_accounts"]}
    assert reported == {alice.email, bob.email}
    assert (await client.get(f"/console/{tenant.slug}/members")).status_code == 303  # to sign-in
    assert (await client.get("/ui/account")).status_code == 303
    client.cookies.clear()
    assert (await client.get(f"/ui/magic?token={unspent}")).status_code == 410  # the link not spent yet
    for member, ended in ((alice, True), (bob, True), (bystander, False)):
        answer = await client.get(tenant.path(f"/users/{member.id}"), headers=member.auth)
        assert answer.status_code == (401 if ended else 200), member.email


async def test_disabling_reaches_every_account_the_partner_brought_in_beyond_the_reports_cap(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link goes in the same call, so that call is the only clean-up there is: it disables them all,
    however many, while the report lists at most ``REPORT_LIMIT`` and says it was cut."""
    monkeypatch.setattr(revocation, "REPORT_LIMIT", 2)
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    emails = [f"backdoor{n}@example.com" for n in range(5)]
    for email in emails:
        body = {"email": email, "password": PASSWORD, "roles": ["admin"]}
        created = await client.post(tenant.path("/users"), json=body, headers=partner.auth)
        assert created.status_code == 201, created.text
    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    report = revoked.json()
    assert (len(report["created_accounts"]), len(report["disabled"]), report["truncated"]) == (2, 2, True)
    for email in emails:
        assert (await _sign_in(client, email)).json()["error"] == "invalid_grant", email


async def test_a_member_the_partner_readdressed_is_disabled_so_no_reset_mails_the_partner(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, partner: Tenant
) -> None:
    """The address a partner set is the partner's: a reset, the member's own "forgot password" included, would
    mail it a way back in as the member. Revoking disables such members (even without ``disable_created``)
    and lists them; one whose address the customer set again since is left alone."""
    mailbox = Mailbox(runtime)
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    victim = await tenant.add_user("victim@acme.example", roles=["supervisor"])
    fixed = await tenant.add_user("fixed@acme.example")
    for member in (victim, fixed):
        body = {"email": f"inbox-{member.id}@partner-co.example"}
        changed = await client.patch(tenant.path(f"/users/{member.id}"), json=body, headers=partner.auth)
        assert changed.status_code == 200, changed.text
    again = await client.patch(tenant.path(f"/users/{fixed.id}"), json={"email": fixed.email}, headers=tenant.auth)
    assert again.status_code == 200, again.text

    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    report = revoked.json()
    assert [(a["id"], a["status"]) for a in report["readdressed_accounts"]] == [(victim.id, "disabled")]
    assert report["disabled"] == [victim.id]
    await mailbox.deliver()  # (earlier mail)
    partners_inbox = f"inbox-{victim.id}@partner-co.example"
    assert (await client.post("/api/v1/auth/password-reset", json={"email": partners_inbox})).status_code == 202
    refused = await client.post(tenant.path(f"/users/{victim.id}/password-reset"), headers=tenant.auth)
    assert refused.status_code == 409, refused.text
    assert [mail.to for mail in await mailbox.deliver()] == []

    # The customer gives the member an address of theirs, enables them, and only then sends a reset.
    body = {"email": "victim.again@acme.example"}
    assert (await client.patch(tenant.path(f"/users/{victim.id}"), json=body, headers=tenant.auth)).status_code == 200
    assert (await client.post(tenant.path(f"/users/{victim.id}/enable"), headers=tenant.auth)).status_code == 200
    sent = await client.post(tenant.path(f"/users/{victim.id}/password-reset"), headers=tenant.auth)
    assert sent.status_code == 202, sent.text
    assert (await mailbox.one_for("victim.again@acme.example")).links


async def test_a_partner_deleting_its_organization_leaves_each_customer_a_revocation(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, partner: Tenant
) -> None:
    """The link ends with the partner organization; the customer gets what revoking it would have given: the
    event listing what the partner brought in, sessions it handled ended, members it re-addressed disabled."""
    native_id, telm_id = await _backdoors(client, tenant, partner)
    victim = await tenant.add_user("victim@acme.example")
    body = {"email": "inbox@partner-co.example"}
    assert (await client.patch(tenant.path(f"/users/{victim.id}"), json=body, headers=partner.auth)).status_code == 200
    assert (await client.delete(f"/api/v1/orgs/{partner.id}", headers=partner.auth)).status_code == 204
    async with runtime.database.transaction(write=False) as session:
        event = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.org_id == tenant.id, AuditEvent.action == "partner.revoked")
            )
        ).one()
    assert event.target_id == partner.id
    assert event.details == {
        "created_accounts": [native_id, telm_id],
        "disabled": [victim.id],
        "readdressed_accounts": [victim.id],
        "signed_out_accounts": [victim.id],
    }
    found = await client.get(tenant.path(f"/users/{victim.id}"), headers=tenant.auth)
    assert found.json()["status"] == "disabled"


PARTNERS_PASSWORD = "the partner chose this one 42"


async def _readdress_as_the_member(client: httpx.AsyncClient, customer: Tenant, partner: Tenant, victim: Member) -> str:
    """The partner sets the member's password, signs in as them and changes "their own" address (an event that
    names no partner), a role that may do so granted for the while."""
    body = {"password": PARTNERS_PASSWORD}
    assert (
        await client.post(customer.path(f"/users/{victim.id}/password"), json=body, headers=partner.auth)
    ).status_code == 204
    roles = customer.path(f"/users/{victim.id}/roles")
    assert (await client.put(roles, json={"roles": ["admin"]}, headers=partner.auth)).status_code == 200
    as_member = bearer(await token_for(client, victim.email, PARTNERS_PASSWORD))
    address = "mallory@partner-co.example"
    changed = await client.patch(customer.path(f"/users/{victim.id}"), json={"email": address}, headers=as_member)
    assert changed.status_code == 200, changed.text
    assert (await client.put(roles, json={"roles": ["viewer"]}, headers=partner.auth)).status_code == 200
    return address


async def _readdress_as_an_account_it_created(
    client: httpx.AsyncClient, customer: Tenant, partner: Tenant, victim: Member
) -> str:
    """The partner creates an admin here, signs in as it and changes the member's address (no partner named)."""
    body = {"email": "helper@partner-co.example", "first_name": "H", "password": PARTNERS_PASSWORD, "roles": ["admin"]}
    assert (await client.post(customer.path("/users"), json=body, headers=partner.auth)).status_code == 201
    as_helper = bearer(await token_for(client, "helper@partner-co.example", PARTNERS_PASSWORD))
    address = "mallory@partner-co.example"
    changed = await client.patch(customer.path(f"/users/{victim.id}"), json={"email": address}, headers=as_helper)
    assert changed.status_code == 200, changed.text
    return address


Readdress = Callable[[httpx.AsyncClient, Tenant, Tenant, Member], Awaitable[str]]


@pytest.mark.parametrize(
    "readdress", [_readdress_as_the_member, _readdress_as_an_account_it_created], ids=["as the member", "as its own"]
)
async def test_a_member_the_partner_readdressed_through_another_identity_is_disabled(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant, readdress: Readdress
) -> None:
    """An address change made as an account the partner controls (one whose sign-in it handled, one it brought
    in) is the partner's, though its event names no partner: revoking disables that member and lists them."""
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    victim = await tenant.add_user("alice@acme.example", roles=["viewer"])
    address = await readdress(client, tenant, partner, victim)
    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    report = revoked.json()
    assert [(a["id"], a["email"], a["status"]) for a in report["readdressed_accounts"]] == [
        (victim.id, address, "disabled")
    ]
    assert victim.id in report["disabled"]
    assert (await _sign_in(client, address, PARTNERS_PASSWORD)).json()["error"] == "invalid_grant"


async def test_a_member_whose_address_the_customer_set_after_the_partner_is_left_alone(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant
) -> None:
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    victim = await tenant.add_user("alice@acme.example", roles=["viewer"])
    await _readdress_as_the_member(client, tenant, partner, victim)
    body = {"email": "alice.again@acme.example"}
    assert (await client.patch(tenant.path(f"/users/{victim.id}"), json=body, headers=tenant.auth)).status_code == 200
    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["readdressed_accounts"] == []
    assert [a["id"] for a in revoked.json()["signed_out_accounts"]] == [victim.id]


async def test_revoking_ends_the_partners_accounts_sessions_without_a_lock_per_account(
    client: httpx.AsyncClient, tenant: Tenant, partner: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One advisory lock per account, held until the commit, ran PostgreSQL out of shared memory for a partner that
    had brought in about 16,000 accounts (two CSV imports), and the revocation failed whole, the link kept. The
    accounts it disables, re-addressed and signed out end their sessions in bulk."""
    native_id, telm_id = await _backdoors(client, tenant, partner)
    alice = await tenant.add_user("alice@example.com", roles=["viewer"])
    minted = await client.post(tenant.path(f"/users/{alice.id}/magic-link"), headers=partner.auth)
    assert minted.status_code == 201, minted.text
    victim = await tenant.add_user("victim@acme.example", roles=["viewer"])
    body = {"email": "inbox@partner-co.example"}
    assert (await client.patch(tenant.path(f"/users/{victim.id}"), json=body, headers=partner.auth)).status_code == 200
    signed_in = await _sign_in(client, "backdoor-native@example.com")
    locked = account_locks(monkeypatch)
    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    assert locked == []
    report = revoked.json()
    assert report["disabled"] == [native_id, telm_id, victim.id]
    assert [a["id"] for a in report["signed_out_accounts"]] == [alice.id, victim.id]
    for member in (alice, victim):
        assert (await client.get(tenant.path(f"/users/{member.id}"), headers=member.auth)).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": signed_in.json()["refresh_token"]}
    )
    assert refreshed.json()["error"] == "invalid_grant"
    unspent = parse_qs(urlsplit(minted.json()["url"]).query)["token"][0]
    assert (await client.get(f"/ui/magic?token={unspent}")).status_code == 410


CREATED = 2000


async def _seed_brought_in(runtime: Runtime, customer: Tenant, partner: Tenant) -> list[str]:
    """``CREATED`` accounts the partner's owner created in the customer through the link, each signed in once,
    written directly (an import of that many takes minutes)."""
    users = [User(email=f"bulk{n:05d}@example.com", first_name="B") for n in range(CREATED)]
    async with runtime.database.transaction() as session:
        session.add_all(users)
        await session.flush()
        lifetime = refresh_tokens.Lifetime(3600, 86400)
        session.add_all(
            [
                *[Membership(org_id=customer.id, user_id=user.id, profile={}, attributes={}) for user in users],
                *[
                    RefreshToken(**refresh_tokens.new_refresh(user.id, lifetime)[1])  # type: ignore[arg-type]
                    for user in users
                ],
                *[
                    AuditEvent(
                        org_id=customer.id,
                        action="user.created",
                        actor_user_id=partner.owner.id,
                        partner_org_id=partner.id,
                        target_type="user",
                        target_id=user.id,
                        details={},
                    )
                    for user in users
                ],
            ]
        )
    return [user.id for user in users]


async def test_revoking_a_partner_that_brought_in_thousands_disables_them_all(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, partner: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    created = await _seed_brought_in(runtime, tenant, partner)
    locked = account_locks(monkeypatch)
    revoked = await client.delete(tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth)
    assert revoked.status_code == 200, revoked.text
    assert locked == []
    report = revoked.json()
    assert (len(report["created_accounts"]), report["disabled"], report["truncated"]) == (
        revocation.REPORT_LIMIT,
        created[: revocation.REPORT_LIMIT],
        True,
    )
    async with runtime.database.transaction(write=False) as session:
        statuses = select(Membership.status, User.status, func.count()).join(User, User.id == Membership.user_id)
        counted = await session.execute(statuses.where(User.id.in_(created)).group_by(Membership.status, User.status))
        live = select(func.count()).where(RefreshToken.user_id.in_(created), RefreshToken.revoked_at.is_(None))
        records = select(func.count()).where(AuditEvent.action == "member.disabled", AuditEvent.org_id == tenant.id)
        assert [tuple(row) for row in counted] == [(MEMBERSHIP_DISABLED, USER_DISABLED, CREATED)]
        assert (await session.scalar(live), await session.scalar(records)) == (0, CREATED)
    assert (await client.get(tenant.path("/partners"), headers=tenant.auth)).json()["items"] == []
