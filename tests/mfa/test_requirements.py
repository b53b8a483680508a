"""Organizations and the platform requiring a second factor; an administrator's reset of a member's factors."""

import httpx
import pyotp

from tenantry.runtime import Runtime
from tests.auth.conftest import MakeInstance
from tests.factories import Tenant, accept_invitation, bearer
from tests.mailbox import Mailbox, submit
from tests.mfa.conftest import TOKEN, TotpClock, answer, enrol, sign_in

ENROL = "/api/v1/auth/mfa/totp"


async def require_mfa(client: httpx.AsyncClient, tenant: Tenant, required: bool = True) -> None:
    response = await client.patch(tenant.path(), json={"mfa_required": required}, headers=tenant.auth)
    assert response.status_code == 200, response.text
    assert response.json()["settings"].get("mfa_required", False) is required


async def test_a_member_without_a_factor_must_enrol_before_getting_tokens(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    await require_mfa(client, tenant)
    refused = await sign_in(client, member.email)
    assert refused.status_code == 400
    assert refused.json()["error"] == "mfa_enrollment_required"
    mfa_token = refused.json()["mfa_token"]
    # The enrolment token is no access token and no answer to the otp grant.
    assert (await client.get("/api/v1/me", headers=bearer(mfa_token))).status_code == 401
    assert (await answer(client, mfa_token, "123456")).json()["error"] == "invalid_grant"
    started = await client.post(ENROL, json={"mfa_token": mfa_token})
    assert started.status_code == 200, started.text
    code = pyotp.TOTP(started.json()["secret"]).at(totp_clock.now)
    finished = await client.post(f"{ENROL}/confirm", json={"mfa_token": mfa_token, "code": code})
    assert finished.status_code == 200, finished.text
    assert len(finished.json()["recovery_codes"]) == 10
    access = finished.json()["access_token"]
    assert (await client.get("/api/v1/me/mfa", headers=bearer(access))).json()["required"] is True
    assert (await client.post(f"{ENROL}/confirm", json={"mfa_token": mfa_token, "code": code})).status_code == 422
    assert (await sign_in(client, member.email)).json()["error"] == "mfa_required"


async def test_a_verify_challenge_does_not_enrol(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    await enrol(client, tenant.owner.token, totp_clock)
    mfa_token = (await sign_in(client, tenant.owner.email)).json()["mfa_token"]
    assert (await client.post(ENROL, json={"mfa_token": mfa_token})).status_code == 422


async def test_lifting_the_requirement_lets_members_sign_in_with_a_password_again(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user()
    await require_mfa(client, tenant)
    assert (await sign_in(client, member.email)).status_code == 400
    await require_mfa(client, tenant, False)
    assert (await sign_in(client, member.email)).status_code == 200


async def test_other_organizations_members_are_not_concerned(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    member = await other_tenant.add_user()
    await require_mfa(client, tenant)
    assert (await sign_in(client, member.email)).status_code == 200


async def test_the_platform_can_require_mfa_of_every_platform_admin(instance: MakeInstance, tenant: Tenant) -> None:
    strict = await (await instance(mfa_required_for_platform_admins=True)).client()
    assert (await sign_in(strict, "root@example.com")).json()["error"] == "mfa_enrollment_required"
    assert (await sign_in(strict, tenant.owner.email)).status_code == 200


async def test_an_admin_resets_a_members_factors_audited_and_mailed(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock, mailbox: Mailbox
) -> None:
    member = await tenant.add_user()
    await enrol(client, member.token, totp_clock)
    await mailbox.deliver()
    reset = await client.delete(tenant.path(f"/users/{member.id}/mfa"), headers=tenant.auth)
    assert reset.status_code == 204, reset.text
    assert (await sign_in(client, member.email)).status_code == 200
    assert "second factors were removed" in (await mailbox.one_for(member.email)).subject
    events = (await client.get(tenant.path("/audit-events"), headers=tenant.auth)).json()["items"]
    assert any(event["action"] == "mfa.reset" and event["target_id"] == member.id for event in events)
    assert (await client.delete(tenant.path(f"/users/{member.id}/mfa"), headers=tenant.auth)).status_code == 409


async def test_reset_needs_the_permission_and_a_member_of_the_org(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    await enrol(client, member.token, totp_clock)
    plain = await tenant.add_user(roles=["member"])
    assert (await client.delete(tenant.path(f"/users/{member.id}/mfa"), headers=plain.auth)).status_code == 403
    foreign = await client.delete(other_tenant.path(f"/users/{member.id}/mfa"), headers=other_tenant.auth)
    assert foreign.status_code == 404
    assert (await sign_in(client, member.email)).json()["error"] == "mfa_required"


async def test_reset_refuses_a_member_with_more_rights(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    await enrol(client, tenant.owner.token, totp_clock)
    admin = await tenant.add_user(roles=["admin"])
    response = await client.delete(tenant.path(f"/users/{tenant.owner.id}/mfa"), headers=admin.auth)
    assert response.status_code == 403


async def test_reset_and_import_refuse_an_account_another_organization_shares(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant, totp_clock: TotpClock
) -> None:
    """As for passwords: an account that also belongs to another organization is only its owner's to change."""
    member = await tenant.add_user()
    await enrol(client, member.token, totp_clock)
    await client.post(other_tenant.path("/members"), json={"email": member.email}, headers=other_tenant.auth)
    await accept_invitation(runtime, member.id, other_tenant.slug)
    for org in (tenant, other_tenant):
        reset = await client.delete(org.path(f"/users/{member.id}/mfa"), headers=org.auth)
        assert reset.status_code == 403, reset.text
        assert "other organizations" in reset.json()["detail"]
        secret = {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
        imported = await client.put(org.path(f"/users/{member.id}/mfa/totp"), json=secret, headers=org.auth)
        assert imported.status_code == 403, imported.text
    assert (await sign_in(client, member.email)).json()["error"] == "mfa_required"


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


async def test_requiring_mfa_stops_one_factor_refresh_tokens_of_members(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    outsider = await other_tenant.add_user()
    one_factor = (await sign_in(client, member.email)).json()["refresh_token"]
    outsiders = (await sign_in(client, outsider.email)).json()["refresh_token"]
    app = await enrol(client, tenant.owner.token, totp_clock)
    challenge = (await sign_in(client, tenant.owner.email)).json()["mfa_token"]
    two_factors = (await answer(client, challenge, app.code_at(totp_clock.now))).json()["refresh_token"]
    await require_mfa(client, tenant)

    refused = await _refresh(client, one_factor)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    assert "second factor is now required" in refused.json()["error_description"]
    assert (await _refresh(client, two_factors)).status_code == 200
    assert (await _refresh(client, outsiders)).status_code == 200  # another organization requires nothing

    await require_mfa(client, tenant, False)
    assert (await _refresh(client, one_factor)).status_code == 200  # refused, not spent: usable again when lifted


async def test_a_new_password_drops_an_app_secret_shown_to_the_old_passwords_holder(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    """Someone holding the old password began setting up an authenticator app (its secret was shown to them)
    and never confirmed it. The owner's reset ends every session, and what they began with it: the owner's
    own setup gets a new secret, not the one the other person holds."""
    member = await tenant.add_user("victim@example.com")
    await require_mfa(client, tenant)
    attacker = (await sign_in(client, member.email)).json()
    assert attacker["error"] == "mfa_enrollment_required"
    seen = (await client.post(ENROL, json={"mfa_token": attacker["mfa_token"]})).json()["secret"]
    assert (await client.post("/api/v1/auth/password-reset", json={"email": member.email})).status_code == 202
    link = (await mailbox.one_for(member.email)).link
    new = "the owner's fresh passphrase"
    fields = {"token": link.split("token=")[1], "password": new, "password_repeat": new}
    assert (await submit(client, link, "/ui/reset-password", fields)).status_code == 200
    # The challenge begun with the old password is gone with it.
    assert (await client.post(ENROL, json={"mfa_token": attacker["mfa_token"]})).status_code == 422
    owner = (await sign_in(client, member.email, new)).json()
    assert owner["error"] == "mfa_enrollment_required"
    shown = (await client.post(ENROL, json={"mfa_token": owner["mfa_token"]})).json()["secret"]
    assert shown != seen
