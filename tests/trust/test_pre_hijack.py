"""An organization's account for an address it does not own must not become the address owner's account.

Found by the red-team pass of issue 14: an organization creates a user for an address it does not own, with a
password it knows (and may even assert ``email_verified``). When another organization invites that address,
the invitation was accepted (by the real owner through the mailed link, or by the creator itself on "My
account", signed in with its password) and the creator's password then signed in to the inviting organization
as its new member. Now the account knows whether its credentials were chosen by the proven owner of the
address (``User.credentials_proven``, ``core.flows.ownership``): without it, "My account" refuses and mails
the link again, and the link has the owner choose a new password, which ends everything the creator knew.
"""

import re
from typing import Any

import httpx
import pyotp

from tests.console.test_pages import sign_in
from tests.factories import PASSWORD, Tenant, bearer, make_tenant
from tests.mailbox import Mailbox, csrf_of, submit
from tests.mfa.conftest import TotpClock, enrol, totp_clock
from tests.oidc.flow import APP, authorize_url, code_for, register
from tests.scim.conftest import USER, provisioning_key

__all__ = ["totp_clock"]

CEO = "ceo@bigcorp.example"


async def _pre_made(client: httpx.AsyncClient, root_token: str, bigcorp: Tenant) -> None:
    evil = await make_tenant(client, root_token, "evil")
    made = {"email": CEO, "first_name": "C", "password": PASSWORD, "email_verified": True}
    assert (await client.post(evil.path("/users"), json=made, headers=evil.auth)).status_code == 201
    invited = await client.post(bigcorp.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=bigcorp.auth)
    assert invited.json()["membership_status"] == "invited"


async def _creator_acts_in(client: httpx.AsyncClient, bigcorp: Tenant) -> int:
    client.cookies.clear()
    signed_in = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": CEO, "password": PASSWORD}
    )
    if signed_in.status_code != 200:
        return signed_in.status_code
    return (await client.get(bigcorp.path("/users"), headers=bearer(signed_in.json()["access_token"]))).status_code


async def test_the_owner_accepting_by_the_mailed_link_does_not_let_the_creator_in(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    await mailbox.deliver()
    await _pre_made(client, root_token, tenant)
    link = (await mailbox.one_for(CEO)).link.removeprefix("http://testserver")
    assert (await submit(client, link, "/ui/join", {"token": link.split("token=")[1], "answer": "accept"})).is_success
    assert await _creator_acts_in(client, tenant) != 200


async def test_the_creator_cannot_accept_on_my_account(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    await _pre_made(client, root_token, tenant)
    await sign_in(client, CEO)
    page = await client.get("/ui/account")
    form = {"org": tenant.id, "answer": "accept", "csrf_token": csrf_of(page.text)}
    await client.post("/ui/account/invitations", data=form)
    assert await _creator_acts_in(client, tenant) != 200


OWNERS = "the owner's own password 7"
TOKEN = "/api/v1/auth/token"


async def _password_sign_in(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "password", "username": CEO, "password": password})


async def _owner_takes_over(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """The address's owner opens the mailed join link, accepts, and chooses a new password on the next step."""
    link = (await mailbox.one_for(CEO)).link.removeprefix("http://testserver")
    token = link.split("token=")[1]
    asked = await submit(client, link, "/ui/join", {"token": token, "answer": "accept"})
    assert asked.status_code == 200, asked.text
    assert 'name="password_repeat"' in asked.text
    fields = {"token": token, "answer": "accept", "password": OWNERS, "password_repeat": OWNERS}
    accepted = await client.post("/ui/join", data={**fields, "csrf_token": csrf_of(asked.text)})
    assert accepted.status_code == 200, accepted.text
    assert "/ui/account" in accepted.text


async def test_an_account_made_over_the_api_is_the_owners_alone_once_they_accept_by_the_link(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox, totp_clock: TotpClock
) -> None:
    await mailbox.deliver()
    evil = await make_tenant(client, root_token, "evil")
    made = {"email": CEO, "first_name": "C", "password": PASSWORD, "email_verified": True}
    assert (await client.post(evil.path("/users"), json=made, headers=evil.auth)).status_code == 201
    evils = (await _password_sign_in(client, PASSWORD)).json()
    await enrol(client, evils["access_token"], totp_clock)  # a second factor the creator holds
    [notice] = await mailbox.deliver()  # told to the address: made by a session of the password alone
    assert (notice.to, notice.subject) == (CEO, "An authenticator app was added to your account")
    invited = await client.post(tenant.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=tenant.auth)
    assert invited.json()["membership_status"] == "invited"

    await _owner_takes_over(client, mailbox)
    client.cookies.clear()

    assert (await _password_sign_in(client, PASSWORD)).status_code == 400  # the creator's password is gone
    assert (await client.get("/api/v1/me", headers=bearer(evils["access_token"]))).status_code == 401
    refreshed = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": evils["refresh_token"]})
    assert refreshed.status_code == 400
    owners = await _password_sign_in(client, OWNERS)
    assert owners.status_code == 200, owners.text  # no second step: the creator's authenticator app is gone
    assert (await client.get(tenant.path("/users"), headers=bearer(owners.json()["access_token"]))).status_code == 200
    mails = {mail.to: mail.subject for mail in await mailbox.deliver()}
    assert mails.get(CEO) == "Your account is now yours alone"
    root = bearer(root_token)
    told = {(tenant.slug, "user.ownership_proven"): 1, (evil.slug, "user.ownership_proven"): 0}
    told[evil.slug, "member.consent_required"] = 1  # evil holds the account no more: it must be accepted again
    for (slug, action), count in told.items():
        audit = await client.get(f"/api/v1/orgs/{slug}/audit-events", params={"action": action}, headers=root)
        assert len(audit.json()["items"]) == count, (slug, action, audit.text)


async def test_an_account_made_over_scim_cannot_accept_on_my_account_and_its_creators_session_ends(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil = await make_tenant(client, root_token, "evil")
    scim = {"Authorization": f"Bearer {await provisioning_key(evil)}", "Content-Type": "application/scim+json"}
    made = {"schemas": [USER], "userName": CEO, "password": PASSWORD, "emails": [{"value": CEO, "primary": True}]}
    assert (await client.post(f"/scim/v2/{evil.slug}/Users", json=made, headers=scim)).status_code == 201
    await client.post(tenant.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=tenant.auth)
    await mailbox.one_for(CEO)

    await sign_in(client, CEO)  # the creator, with the password it chose
    page = await client.get("/ui/account")
    form = {"org": tenant.id, "answer": "accept", "csrf_token": csrf_of(page.text)}
    refused = await client.post("/ui/account/invitations", data=form)
    assert "Check your mailbox" in refused.text, refused.text
    listed = await client.get(tenant.path("/users"), params={"q": CEO}, headers=tenant.auth)
    assert [user["membership_status"] for user in listed.json()["items"]] == ["invited"]
    creators_cookies = dict(client.cookies)

    await _owner_takes_over(client, mailbox)  # the link mailed again when the creator was refused
    client.cookies.clear()
    client.cookies.update(creators_cookies)
    assert (await client.get("/ui/account")).status_code in {302, 303}  # its session ended
    client.cookies.clear()
    assert (await _password_sign_in(client, PASSWORD)).status_code == 400
    assert (await _password_sign_in(client, OWNERS)).status_code == 200


async def test_a_password_an_administrator_set_must_be_proven_again_and_a_magic_link_dies_on_accepting(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil = await make_tenant(client, root_token, "evil")
    created = await client.post(evil.path("/users"), json={"email": CEO}, headers=evil.auth)
    activation = (await mailbox.one_for(CEO)).link.removeprefix("http://testserver")
    fields = {"token": activation.split("token=")[1], "password": OWNERS, "password_repeat": OWNERS}
    assert (await submit(client, activation, "/ui/activate", fields)).status_code == 303  # the owner's own
    user_id = created.json()["id"]
    magic = await client.post(evil.path(f"/users/{user_id}/magic-link"), headers=evil.auth)
    assert magic.status_code in {200, 201}, magic.text

    await client.post(tenant.path("/members"), json={"email": CEO}, headers=tenant.auth)
    await mailbox.one_for(CEO)
    page = await client.get("/ui/account")
    form = {"org": tenant.id, "answer": "accept", "csrf_token": csrf_of(page.text)}
    accepted = await client.post("/ui/account/invitations", data=form)
    assert "You are now a member" in accepted.text, accepted.text  # proven: no mailbox step
    client.cookies.clear()
    used = await client.get(magic.json()["url"].removeprefix("http://testserver"))
    assert "no longer" in used.text or used.status_code >= 400, used.text  # minted while evil's alone: void

    other = await make_tenant(client, root_token, "third")
    shared = await client.post(evil.path(f"/users/{user_id}/password"), json={"password": PASSWORD}, headers=evil.auth)
    assert shared.status_code == 403  # the account is shared now: evil sets nothing on it
    root = bearer(root_token)
    assert (
        await client.post(evil.path(f"/users/{user_id}/password"), json={"password": PASSWORD}, headers=root)
    ).status_code == 204
    await client.post(other.path("/members"), json={"email": CEO}, headers=other.auth)
    await mailbox.one_for(CEO)
    await sign_in(client, CEO, PASSWORD)  # a password an administrator chose: not proven the owner's
    page = await client.get("/ui/account")
    form = {"org": other.id, "answer": "accept", "csrf_token": csrf_of(page.text)}
    assert "Check your mailbox" in (await client.post("/ui/account/invitations", data=form)).text
    await _owner_takes_over(client, mailbox)


# Found by the review of 2026-12-05: the organization holding an account alone may change its address and is
# handed magic links into it. It could move another organization's invitation to an address of its own, accept
# it from a session its magic link opened, or keep such a session while the owner accepted.
EVILS = "ceo@evil.example"


async def _evils_own(client: httpx.AsyncClient, root_token: str, mailbox: Mailbox) -> tuple[Tenant, str]:
    """An account evil made for the address, whose owner chose the password through the mailed activation link
    (its credentials are the owner's: an invitation is accepted without a mailbox step)."""
    await mailbox.deliver()
    evil = await make_tenant(client, root_token, "evil")
    created = await client.post(evil.path("/users"), json={"email": CEO}, headers=evil.auth)
    activation = (await mailbox.one_for(CEO)).link.removeprefix("http://testserver")
    fields = {"token": activation.split("token=")[1], "password": OWNERS, "password_repeat": OWNERS}
    assert (await submit(client, activation, "/ui/activate", fields)).status_code == 303
    client.cookies.clear()
    return evil, created.json()["id"]


async def _invited_by(client: httpx.AsyncClient, org: Tenant, mailbox: Mailbox) -> str:
    """``org`` invites the address; the join link mailed to it."""
    await client.post(org.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=org.auth)
    return (await mailbox.one_for(CEO)).link.removeprefix("http://testserver")


async def _app_and_magic_session(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> tuple[str, dict[str, Any]]:
    """Evil's account, invited by ``tenant`` (the join link), a platform client (no consent asked), and evil's
    browser signed in as the account with a magic link."""
    evil, user_id = await _evils_own(client, root_token, mailbox)
    consent = await _invited_by(client, tenant, mailbox)
    registered = await register(client, root_token)
    await _magic_session(client, evil, user_id)
    return consent, registered


async def _magic_session(client: httpx.AsyncClient, evil: Tenant, user_id: str) -> None:
    """Evil signs the browser in as the account with a magic link it minted."""
    magic = await client.post(evil.path(f"/users/{user_id}/magic-link"), headers=evil.auth)
    assert magic.status_code in {200, 201}, magic.text
    url = magic.json()["url"].removeprefix("http://testserver")
    assert (await submit(client, url, "/ui/magic", {"token": url.split("token=")[1]})).status_code == 303


async def _accept_on_account(client: httpx.AsyncClient, org: Tenant) -> httpx.Response:
    page = await client.get("/ui/account")
    return await client.post(
        "/ui/account/invitations", data={"org": org.id, "answer": "accept", "csrf_token": csrf_of(page.text)}
    )


async def test_a_new_address_withdraws_the_invitations_sent_to_the_old_one(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_own(client, root_token, mailbox)
    consent = await _invited_by(client, tenant, mailbox)
    assert (await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)).status_code == 200

    moved = {"email": EVILS, "email_verified": True}
    assert (await client.patch(evil.path(f"/users/{user_id}"), json=moved, headers=evil.auth)).status_code == 200

    assert (await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)).status_code == 404
    audit = await client.get(
        tenant.path("/audit-events"), params={"action": "member.invitation_withdrawn"}, headers=tenant.auth
    )
    [withdrawn] = audit.json()["items"]
    assert withdrawn["target_id"] == user_id
    assert withdrawn["actor_user_id"] is None  # nobody of evil's is named
    dead = await client.get(consent)
    assert "no longer" in dead.text or dead.status_code >= 400, dead.text  # the link sent to the old address
    await _magic_session(client, evil, user_id)  # evil, as the account at its new address
    assert (await _accept_on_account(client, tenant)).status_code == 404
    listed = await client.get(tenant.path("/users"), params={"q": "ceo"}, headers=tenant.auth)
    assert listed.json()["items"] == []


async def test_a_session_a_magic_link_opened_cannot_accept_an_invitation(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_own(client, root_token, mailbox)
    await client.post(tenant.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=tenant.auth)
    await mailbox.one_for(CEO)

    await _magic_session(client, evil, user_id)
    refused = await _accept_on_account(client, tenant)
    assert "Check your mailbox" in refused.text, refused.text
    member = await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    assert member.json()["membership_status"] == "invited"
    assert (await mailbox.one_for(CEO)).to == CEO  # the join link, to the address invited


async def test_a_session_a_magic_link_opened_cannot_decline_an_invitation_either(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_own(client, root_token, mailbox)
    consent = await _invited_by(client, tenant, mailbox)

    await _magic_session(client, evil, user_id)
    page = await client.get("/ui/account")
    form = {"org": tenant.id, "answer": "decline", "csrf_token": csrf_of(page.text)}
    refused = await client.post("/ui/account/invitations", data=form)
    assert "Check your mailbox" in refused.text, refused.text
    member = await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    assert member.json()["membership_status"] == "invited"  # evil answered nothing in the owner's name
    audit = await client.get(
        tenant.path("/audit-events"), params={"action": "member.consent_declined"}, headers=tenant.auth
    )
    assert audit.json()["items"] == []
    client.cookies.clear()
    opened = await client.get(consent)
    assert 'name="answer"' in opened.text, opened.text  # the owner's link still answers


async def test_accepting_ends_the_sessions_magic_links_opened_and_no_other(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_own(client, root_token, mailbox)
    owners = (await _password_sign_in(client, OWNERS)).json()
    consent = await _invited_by(client, tenant, mailbox)
    await _magic_session(client, evil, user_id)
    evils_cookies = dict(client.cookies)
    client.cookies.clear()

    accepted = await submit(client, consent, "/ui/join", {"token": consent.split("token=")[1], "answer": "accept"})
    assert accepted.is_success, accepted.text
    member = await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    assert member.json()["membership_status"] == "active"

    client.cookies.clear()
    client.cookies.update(evils_cookies)
    assert (await client.get("/ui/account")).status_code in {302, 303}  # evil's session ended
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=bearer(owners["access_token"]))).status_code == 200
    refreshed = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": owners["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text  # the owner's own session goes on


async def test_a_factor_a_magic_links_session_added_must_be_proven_before_accepting(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox, totp_clock: TotpClock
) -> None:
    evil, user_id = await _evils_own(client, root_token, mailbox)
    await _magic_session(client, evil, user_id)
    page = await client.get("/ui/account/mfa")
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', page.text)
    assert secret is not None
    code = pyotp.TOTP(secret.group(1)).at(totp_clock.now)
    added = await client.post("/ui/account/mfa", data={"code": code, "csrf_token": csrf_of(page.text)})
    assert added.status_code == 200, added.text  # an authenticator app evil holds (a passkey likewise)
    assert [mail.subject for mail in await mailbox.deliver()] == ["An authenticator app was added to your account"]
    client.cookies.clear()
    consent = await _invited_by(client, tenant, mailbox)

    asked = await submit(client, consent, "/ui/join", {"token": consent.split("token=")[1], "answer": "accept"})
    assert 'name="password_repeat"' in asked.text, asked.text  # the owner takes the account over: evil's app goes
    member = await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    assert member.json()["membership_status"] == "invited"


async def test_accepting_ends_the_application_sessions_a_magic_links_session_started(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    consent, registered = await _app_and_magic_session(client, root_token, tenant, mailbox)
    code = await code_for(client, authorize_url(registered["client_id"]), CEO)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    credentials = (registered["client_id"], registered["client_secret"])
    apps = (await client.post("/oidc/token", data=exchange, auth=credentials)).json()
    client.cookies.clear()

    accepted = await submit(client, consent, "/ui/join", {"token": consent.split("token=")[1], "answer": "accept"})
    assert accepted.is_success, accepted.text

    again = {"grant_type": "refresh_token", "refresh_token": apps["refresh_token"]}
    assert (await client.post("/oidc/token", data=again, auth=credentials)).status_code == 400
    assert (await client.get("/api/v1/me", headers=bearer(apps["access_token"]))).status_code == 401


async def test_accepting_spends_the_codes_and_drops_the_second_steps_a_magic_links_session_began(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    consent, registered = await _app_and_magic_session(client, root_token, tenant, mailbox)
    code = await code_for(client, authorize_url(registered["client_id"]), CEO)  # kept, not redeemed yet
    stepping_up = await client.get(authorize_url(registered["client_id"], acr_values="urn:tenantry:acr:2fa"))
    enrol_page = stepping_up.headers["location"]
    assert enrol_page.startswith("/ui/mfa/enrol?"), enrol_page
    shown = re.search(r'<code class="secret"[^>]*>([A-Z2-7]+)</code>', (await client.get(enrol_page)).text)
    assert shown is not None  # a second step begun, to finish later, and the app's secret evil now knows
    evils_cookies = dict(client.cookies)
    client.cookies.clear()

    accepted = await submit(client, consent, "/ui/join", {"token": consent.split("token=")[1], "answer": "accept"})
    assert accepted.is_success, accepted.text

    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    redeemed = await client.post(
        "/oidc/token", data=exchange, auth=(registered["client_id"], registered["client_secret"])
    )
    assert redeemed.status_code == 400, redeemed.text
    client.cookies.update(evils_cookies)
    assert 'class="secret"' not in (await client.get(enrol_page)).text
    client.cookies.clear()
    await sign_in(client, CEO, OWNERS)  # the owner sets up an app: not with the secret evil saw
    assert shown.group(1) not in (await client.get("/ui/account/mfa")).text


# Found by the review of 2026-12-07: a platform admin's direct attach skipped what accepting does. An account evil
# made (with a password it chose) or holds alone (magic links) was attached to bigcorp at once, and evil's password,
# magic link and magic link's session reached bigcorp's console.
async def _evils_pre_made(client: httpx.AsyncClient, root_token: str, mailbox: Mailbox) -> tuple[Tenant, str]:
    """An account evil made for the address, with a password it chose (not proven the owner's)."""
    await mailbox.deliver()
    evil = await make_tenant(client, root_token, "evil")
    made = {"email": CEO, "first_name": "Fake", "password": PASSWORD, "email_verified": True}
    created = await client.post(evil.path("/users"), json=made, headers=evil.auth)
    assert created.status_code == 201, created.text
    return evil, created.json()["id"]


async def _minted(client: httpx.AsyncClient, evil: Tenant, user_id: str) -> str:
    magic = await client.post(evil.path(f"/users/{user_id}/magic-link"), headers=evil.auth)
    assert magic.status_code in {200, 201}, magic.text
    return str(magic.json()["url"]).removeprefix("http://testserver")


async def test_a_platform_admin_attaching_an_account_an_organization_made_invites_its_owner(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_pre_made(client, root_token, mailbox)
    magic = await _minted(client, evil, user_id)

    added = await client.post(
        tenant.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=bearer(root_token)
    )
    assert added.json()["membership_status"] == "invited", added.text  # evil chose the password: the owner must accept
    assert await _creator_acts_in(client, tenant) != 200

    await _owner_takes_over(client, mailbox)
    client.cookies.clear()
    used = await client.get(magic)
    assert "no longer" in used.text or used.status_code >= 400, used.text
    assert await _creator_acts_in(client, tenant) != 200
    owners = await _password_sign_in(client, OWNERS)
    assert (await client.get(tenant.path("/users"), headers=bearer(owners.json()["access_token"]))).status_code == 200


async def test_a_platform_admins_attach_ends_the_magic_links_of_the_organization_holding_the_account(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_own(client, root_token, mailbox)  # the owner chose the password: proven
    owners = (await _password_sign_in(client, OWNERS)).json()
    await _magic_session(client, evil, user_id)
    evils_cookies = dict(client.cookies)
    magic = await _minted(client, evil, user_id)  # and one kept for later
    client.cookies.clear()

    added = await client.post(
        tenant.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=bearer(root_token)
    )
    assert added.json()["membership_status"] == "active", added.text  # proven: attached at once

    used = await client.get(magic)
    assert "no longer" in used.text or used.status_code >= 400, used.text  # minted while evil's alone: void
    client.cookies.update(evils_cookies)
    assert (await client.get("/ui/account")).status_code in {302, 303}  # evil's session ended
    assert (await client.get(f"/console/{tenant.slug}/members")).status_code != 200
    client.cookies.clear()
    assert (await client.get(tenant.path("/users"), headers=bearer(owners["access_token"]))).status_code == 200


# Found by the review of 2026-12-07: once the owner took a pre-made account over, the organization that had made it
# kept the membership nobody agreed to: it read the owner's profile and sign-ins and could impersonate them, and the
# owner had no way to leave it.
async def test_the_organization_that_made_the_account_asks_its_owner_again_once_they_take_it_over(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, mailbox: Mailbox
) -> None:
    evil, user_id = await _evils_pre_made(client, root_token, mailbox)
    await client.post(tenant.path("/members"), json={"email": CEO, "roles": ["admin"]}, headers=tenant.auth)

    await _owner_takes_over(client, mailbox)
    [secured] = [mail for mail in await mailbox.deliver() if mail.to == CEO]
    assert "Evil" in secured.text, secured.text  # the owner is told who asks to be accepted again

    seen = (await client.get(evil.path(f"/users/{user_id}"), headers=evil.auth)).json()
    assert (seen["membership_status"], seen["first_name"]) == ("invited", "")  # the email alone
    assert (await client.post(evil.path(f"/users/{user_id}/impersonate"), headers=evil.auth)).status_code == 403
    audit = await client.get(evil.path("/audit-events"), params={"target_id": user_id, "limit": 100}, headers=evil.auth)
    actions = [item["action"] for item in audit.json()["items"]]
    assert "member.consent_required" in actions, actions
    client.cookies.clear()
    await sign_in(client, CEO, OWNERS)
    audit = await client.get(evil.path("/audit-events"), params={"action": "user.signed_in"}, headers=evil.auth)
    assert [item for item in audit.json()["items"] if item["target_id"] == user_id] == []
    page = await client.get("/ui/account")
    assert "Evil" in page.text
    form = {"org": evil.id, "answer": "decline", "csrf_token": csrf_of(page.text)}
    assert (await client.post("/ui/account/invitations", data=form)).status_code == 200  # the owner leaves it
    assert (await client.get(evil.path(f"/users/{user_id}"), headers=evil.auth)).status_code == 404
    member = await client.get(tenant.path(f"/users/{user_id}"), headers=tenant.auth)
    assert member.json()["membership_status"] == "active"
