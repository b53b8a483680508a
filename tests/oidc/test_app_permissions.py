"""Application permissions: registered by platform admins, held by custom roles, carried in tokens, and
limited per client."""

import httpx
import jwt

from tests.factories import Tenant, bearer
from tests.oidc.flow import APP, authorize_url, code_for, register

PERMISSIONS = "/api/v1/permissions"


async def _tokens(client: httpx.AsyncClient, registered: dict[str, str], email: str) -> dict[str, object]:
    code = await code_for(client, authorize_url(registered["client_id"]), email)
    answer = await client.post(
        "/oidc/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert answer.status_code == 200, answer.text
    claims: dict[str, object] = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    return claims


async def test_custom_roles_hold_registered_app_permissions_and_tokens_carry_them(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    before = await client.post(
        tenant.path("/roles"), json={"name": "approver", "permissions": ["invoices:approve"]}, headers=tenant.auth
    )
    assert before.status_code == 422
    registered = await client.post(
        PERMISSIONS, json={"name": "invoices:approve", "description": "Approve invoices"}, headers=bearer(root_token)
    )
    assert registered.status_code == 201, registered.text
    assert (
        await client.post(PERMISSIONS, json={"name": "invoices:approve"}, headers=bearer(root_token))
    ).status_code == 409
    listed = (await client.get(PERMISSIONS, headers=tenant.auth)).json()
    assert {"name": "invoices:approve", "description": "Approve invoices", "application": True} in listed

    role = await client.post(
        tenant.path("/roles"),
        json={"name": "approver", "permissions": ["invoices:approve", "users:read"]},
        headers=tenant.auth,
    )
    assert role.status_code == 201, role.text
    member = await tenant.add_user(roles=["approver"])
    web = await register(client, root_token)
    claims = await _tokens(client, web, member.email)
    assert claims["roles"] == ["approver"]
    assert claims["permissions"] == ["invoices:approve", "users:read"]

    small = await register(client, root_token, permissions=["invoices:approve"])
    assert (await _tokens(client, small, member.email))["permissions"] == ["invoices:approve"]


async def test_only_platform_admins_register_and_tenantry_domains_are_refused(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    assert (await client.post(PERMISSIONS, json={"name": "invoices:pay"}, headers=tenant.auth)).status_code == 403
    for bad in ("users:fly", "Invoices:Approve", "invoices", "invoices:approve:twice"):
        answer = await client.post(PERMISSIONS, json={"name": bad}, headers=bearer(root_token))
        assert answer.status_code == 422, bad
    unknown_limit = await client.post(
        "/api/v1/clients",
        json={"name": "x", "type": "public", "redirect_uris": [APP], "permissions": ["nothing:here"]},
        headers=bearer(root_token),
    )
    assert unknown_limit.status_code == 422


async def test_a_token_carrying_many_permissions_is_introspected_exchanged_and_revoked(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """A fine-grained catalog makes access tokens longer than any other parameter of a back-channel request:
    the endpoints that take a token back (RFC 7662, RFC 8693, RFC 7009) still read it."""
    names = [f"billing:invoice_action_{number:03d}" for number in range(120)]
    for name in names:
        assert (await client.post(PERMISSIONS, json={"name": name}, headers=bearer(root_token))).status_code == 201
    role = await client.post(tenant.path("/roles"), json={"name": "billing", "permissions": names}, headers=tenant.auth)
    assert role.status_code == 201, role.text
    member = await tenant.add_user(roles=["billing"])
    exchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    web = await register(client, root_token, grant_types=["authorization_code", "refresh_token", exchange])
    auth = (web["client_id"], web["client_secret"])
    code = await code_for(client, authorize_url(web["client_id"]), member.email)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    access = (await client.post("/oidc/token", data=body, auth=auth)).json()["access_token"]
    assert len(access) > 5000

    introspected = await client.post("/oidc/introspect", data={"token": access}, auth=auth)
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    switch = {
        "grant_type": exchange,
        "subject_token": access,
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "organization": tenant.slug,
    }
    switched = await client.post("/oidc/token", data=switch, auth=auth)
    assert switched.status_code == 200, switched.text
    revoked = await client.post("/oidc/revoke", data={"token": access}, auth=auth)
    assert revoked.status_code == 200, revoked.text
    gone = await client.post("/oidc/introspect", data={"token": access}, auth=auth)
    assert gone.json() == {"active": False}
    other = await client.post("/oidc/introspect", data={"token": access, "resource": "x" * 5000}, auth=auth)
    assert (other.status_code, other.json()["error"]) == (400, "invalid_request")
