"""Credentials bound to one organization never change what guards the account in every organization.

An application an organization registered (an organization-owned OpenID client) holds a token for the one
organization it signs users in to; an impersonation token acts in the organization it was minted in. Neither
is the user's own credential: neither reads or changes the account's second factors, its password, every
session of it, or its email address, on any surface. A console impersonation ends when its impersonator
signs out of the console, as one minted through the API ends with the impersonator's API session.
"""

import re
import time
from typing import Any

import httpx
import pyotp

from tenantry.runtime import Runtime
from tests.console.test_pages import post, sign_in
from tests.factories import PASSWORD, Member, Tenant, bearer, make_tenant, prove_credentials
from tests.mailbox import csrf_of
from tests.mfa.conftest import Authenticator
from tests.oidc.flow import APP, authorize_url, code_for, query_of, register, sign_in_at
from tests.snapshots import every_row

NEW_PASSWORD = "another horse battery staple"


async def _org_app_token(
    client: httpx.AsyncClient, org: Tenant, email: str, app: Authenticator | None = None, **registration: Any
) -> str:
    """The access token an application ``org`` registered (with ``registration``) gets for ``email`` (who allows
    it, once, and gives the code of ``app`` when the account has one)."""
    registration = {"name": "Globex tool", **registration}
    registered = await register(client, org.owner.token, path=org.path("/clients"), **registration)
    url = authorize_url(registered["client_id"])
    signed_in = await sign_in_at(client, (await client.get(url)).headers["location"], email)
    if app is not None:
        second_step = await client.get(signed_in.headers["location"])
        fields = {"code": app.code_at(time.time()), "method": "otp", "csrf_token": csrf_of(second_step.text)}
        fields["continue"] = query_of(signed_in.headers["location"])["continue"]
        signed_in = await client.post("/ui/mfa", data=fields)
    consent = await client.get(signed_in.headers["location"])
    fields = dict(query_of(url), csrf_token=csrf_of(consent.text), decision="allow")
    allowed = await client.post("/oidc/consent", data=fields)
    code = query_of((await client.get(allowed.headers["location"])).headers["location"])["code"]
    return await _tokens(client, registered, code)


async def _tokens(client: httpx.AsyncClient, registered: dict[str, Any], code: str) -> str:
    """The access token ``registered`` (a client) gets for ``code``; the browser's cookies are cleared."""
    tokens = await client.post(
        "/oidc/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert tokens.status_code == 200, tokens.text
    client.cookies.clear()
    return str(tokens.json()["access_token"])


async def _enrol_totp(client: httpx.AsyncClient, member: Member) -> Authenticator:
    """Set up an authenticator app with ``member``'s own token; its next code is the next time step's."""
    started = await client.post("/api/v1/me/mfa/totp", headers=member.auth)
    otp = pyotp.TOTP(started.json()["secret"])
    confirmed = await client.post("/api/v1/me/mfa/totp/confirm", json={"code": otp.now()}, headers=member.auth)
    assert confirmed.status_code == 200, confirmed.text
    return Authenticator(otp.secret, confirmed.json()["recovery_codes"], lambda at: otp.at(at + 30))


async def test_an_org_applications_token_changes_nothing_that_guards_the_account_elsewhere(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    alice = await tenant.add_user("alice@example.com")
    await prove_credentials(runtime, alice.id)
    attach = {"email": alice.email, "roles": ["member"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    app = await _enrol_totp(client, alice)  # before: enrolling ends the account's one-factor sessions
    app_token = bearer(await _org_app_token(client, other_tenant, alice.email, app))  # two factors, one org
    telm = f"/compat/telm/api/auth/auth/{other_tenant.slug}/user/{alice.email}/password"
    attempts = [
        ("GET", "/api/v1/me/mfa", None, None),
        ("POST", "/api/v1/me/mfa/recovery-codes", None, None),
        ("DELETE", "/api/v1/me/mfa/totp", None, None),
        ("GET", "/api/v1/me/mfa/passkeys", None, None),
        ("DELETE", "/api/v1/me/mfa/passkeys/6b0000000000000000000000", None, None),
        ("POST", "/api/v1/me/sessions/revoke", None, None),
        ("POST", "/api/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, None),
        ("PUT", telm, None, {"old-password": PASSWORD, "new-password": NEW_PASSWORD}),
    ]
    before = await every_row(runtime)
    for method, path, body, query in attempts:
        headers = {"Authentication": app_token["Authorization"]} if path == telm else app_token
        refused = await client.request(method, path, json=body, params=query, headers=headers)
        assert refused.status_code == 403, (method, path, refused.status_code, refused.text)
        assert "recovery_codes" not in refused.text
    assert await every_row(runtime) == before
    # The same requests with the account's own token still work: the refusal is the credential's.
    assert (await client.get("/api/v1/me/mfa", headers=alice.auth)).json()["methods"] == ["otp", "recovery_code"]
    assert (await client.get(other_tenant.path(f"/users/{alice.id}"), headers=app_token)).status_code == 200


async def test_an_impersonator_without_set_password_cannot_move_the_users_email(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    # A supervisor's permissions (no users:set_password), and impersonation.
    supervising = ["orgs:read", "roles:read", "users:read", "users:create", "users:update", "users:disable"]
    helpdesk = {"name": "helpdesk", "permissions": [*supervising, "resources:read", "users:roles", "users:impersonate"]}
    assert (await client.post(tenant.path("/roles"), json=helpdesk, headers=tenant.auth)).status_code == 201
    helper = await tenant.add_user(roles=["helpdesk"])
    alice = await tenant.add_user("alice@example.com", roles=["supervisor"])
    moved = {"email": "alice@attacker.example"}
    direct = await client.patch(tenant.path(f"/users/{alice.id}"), json=moved, headers=helper.auth)
    assert direct.status_code == 403
    minted = await client.post(tenant.path(f"/users/{alice.id}/impersonate"), headers=helper.auth)
    assert minted.status_code == 200, minted.text
    as_alice = bearer(minted.json()["access_token"])
    before = await every_row(runtime)
    native = await client.patch(tenant.path(f"/users/{alice.id}"), json=moved, headers=as_alice)
    assert native.status_code == 403, native.text
    eva = await client.put(f"/compat/eva/eva-user/org/{tenant.id}/users/{alice.id}", json=moved, headers=as_alice)
    assert eva.status_code == 403, eva.text
    scim_body = {"Operations": [{"op": "replace", "path": "userName", "value": moved["email"]}]}
    scim = await client.patch(f"/scim/v2/{tenant.slug}/Users/{alice.id}", json=scim_body, headers=as_alice)
    assert scim.status_code == 403, scim.text
    assert await every_row(runtime) == before
    # Under impersonation the profile still changes (what impersonation is for), the address never.
    renamed = await client.patch(tenant.path(f"/users/{alice.id}"), json={"first_name": "Al"}, headers=as_alice)
    assert (renamed.status_code, renamed.json()["email"]) == (200, alice.email)


async def test_a_console_impersonation_ends_when_its_impersonator_signs_out(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user(roles=["viewer"])
    await sign_in(client, tenant.owner.email)
    base = f"/console/{tenant.slug}/members/{member.id}"
    page = await post(client, base, f"{base}/impersonate")
    found = re.search(r'id="impersonation-token" type="text" value="([^"]+)"', page.text)
    assert found is not None, page.text
    as_member = bearer(found.group(1))
    telm_users = f"/compat/telm/api/auth/auth/{tenant.slug}/users"
    assert (await client.get(tenant.path(f"/users/{member.id}"), headers=as_member)).status_code == 200
    assert (await client.get(telm_users, headers={"Authentication": as_member["Authorization"]})).status_code == 200
    signed_out = await client.post("/ui/sign-out", data={"csrf_token": csrf_of((await client.get("/ui/account")).text)})
    assert signed_out.status_code == 200
    assert (await client.get("/ui/account")).status_code == 303
    assert (await client.get(tenant.path(f"/users/{member.id}"), headers=as_member)).status_code == 401
    assert (await client.get(telm_users, headers={"Authentication": as_member["Authorization"]})).status_code == 401


# Found by the review of 2026-12-05: a token the OpenID provider issued to an application worked on the native API
# as the user's own: with no organization to bind it, a platform admin's carried platform powers and changed the
# account's second factors; bound to one, it did all the user could there, past the client's permissions.
async def _platform_app_token(client: httpx.AsyncClient, root_token: str, email: str) -> str:
    """The access token a platform client gets for ``email`` (no consent asked, no organization chosen)."""
    registered = await register(client, root_token)
    return await _tokens(client, registered, await code_for(client, authorize_url(registered["client_id"]), email))


async def test_an_applications_token_carries_no_platform_powers_and_changes_not_the_account(
    client: httpx.AsyncClient, root_token: str
) -> None:
    app_token = bearer(await _platform_app_token(client, root_token, "root@example.com"))  # a platform admin's
    tenant = await make_tenant(client, root_token, "acme")  # (made after: the token names no organization)
    assert (await client.get("/api/v1/me", headers=app_token)).status_code == 200
    created = await client.post("/api/v1/orgs", json={"name": "Initech", "slug": "initech"}, headers=app_token)
    assert created.status_code == 403, created.text
    assert (await client.get("/api/v1/clients", headers=app_token)).status_code == 403
    assert (await client.get(tenant.path("/users"), headers=app_token)).status_code == 404  # no organization
    assert (await client.post("/api/v1/me/mfa/totp", headers=app_token)).status_code == 403
    assert (await client.get("/api/v1/clients", headers=bearer(root_token))).status_code == 200  # its own token


async def test_an_org_applications_token_does_at_most_what_its_client_may(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    limited = {"name": "Reader", "permissions": ["users:read"]}
    app_token = bearer(await _org_app_token(client, tenant, tenant.owner.email, **limited))

    assert (await client.get(tenant.path("/users"), headers=app_token)).status_code == 200
    made = await client.post(tenant.path("/users"), json={"email": "new@example.com"}, headers=app_token)
    assert made.status_code == 403, made.text  # the owner may; the application it allowed may not
    assert (await client.post(tenant.path("/users"), json={"email": "new@example.com"}, headers=tenant.auth)).is_success


async def test_an_applications_token_for_no_organization_lists_none(client: httpx.AsyncClient, root_token: str) -> None:
    app_token = bearer(await _platform_app_token(client, root_token, "root@example.com"))
    await make_tenant(client, root_token, "acme")  # the admin's, once the token was issued
    me = await client.get("/api/v1/me", headers=app_token)
    assert me.status_code == 200
    assert me.json()["memberships"] == []
    assert (await client.get("/api/v1/orgs", headers=app_token)).json()["items"] == []
    assert (await client.get("/api/v1/orgs", headers=bearer(root_token))).json()["items"] != []
