"""No organization deletes an account it never held, nor a platform admin's.

Removing an account's last membership deletes the account (an organization's own user goes with it). An
invitation is no membership: withdrawing it, on any surface, or deleting the inviting organization, deleted
the account when it belonged to no other organization, so any organization's admin deleted the platform
admin (bootstrap makes one in no organization) by inviting its address and withdrawing. And an owner
deleting the organization a platform admin had created (its only one) deleted the platform admin.
"""

from collections.abc import Awaitable, Callable

import httpx
import pytest

from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, bearer, login, make_tenant
from tests.scim.conftest import provisioning_key
from tests.snapshots import every_row

Withdraw = Callable[[httpx.AsyncClient, Tenant, str, str], Awaitable[httpx.Response]]


async def _native(client: httpx.AsyncClient, org: Tenant, user_id: str, _: str) -> httpx.Response:
    return await client.delete(org.path(f"/users/{user_id}"), headers=org.auth)


async def _scim(client: httpx.AsyncClient, org: Tenant, user_id: str, _: str) -> httpx.Response:
    key = await provisioning_key(org)
    return await client.delete(f"/scim/v2/{org.slug}/Users/{user_id}", headers={"Authorization": f"Bearer {key}"})


async def _telm(client: httpx.AsyncClient, org: Tenant, _: str, email: str) -> httpx.Response:
    path = f"/compat/telm/api/auth/auth/{org.slug}/users/{email}"
    return await client.delete(path, headers={"Authentication": org.auth["Authorization"]})


async def _saleschat(client: httpx.AsyncClient, org: Tenant, user_id: str, _: str) -> httpx.Response:
    return await client.post(f"/compat/saleschat/v1/org/{org.id}/user/{user_id}/delete", headers=org.auth)


async def _org_deleted(client: httpx.AsyncClient, org: Tenant, _: str, __: str) -> httpx.Response:
    return await client.delete(org.path(), headers=org.auth)


WITHDRAWALS: dict[str, Withdraw] = {
    "native": _native,
    "scim": _scim,
    "telm": _telm,
    "saleschat": _saleschat,
    "the inviting organization deleted": _org_deleted,
}


async def _account(runtime: Runtime, email: str, *, platform_admin: bool) -> None:
    """An account in no organization: a platform admin as bootstrap makes it, or anyone's."""
    async with runtime.database.transaction() as session:
        hashed = await runtime.passwords.hash(PASSWORD)
        await users.create_account(session, User(email=email, password_hash=hashed, platform_admin=platform_admin))


async def _rows_of(runtime: Runtime, emails: dict[str, bool]) -> list[tuple[str, ...]]:
    """The accounts' rows, byte for byte (the organization's own owner goes with a deleted organization)."""
    return [row for row in (await every_row(runtime))["users"] if row[1] in emails]


@pytest.mark.parametrize("withdraw", WITHDRAWALS)
async def test_withdrawing_an_invitation_deletes_no_account(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, withdraw: str
) -> None:
    evil = await make_tenant(client, root_token, "evil")
    accounts = {"boss@example.com": True, "loner@example.com": False}
    for email, platform_admin in accounts.items():
        await _account(runtime, email, platform_admin=platform_admin)
    before = await _rows_of(runtime, accounts)
    for email in accounts:
        invited = await client.post(evil.path("/members"), json={"email": email}, headers=evil.auth)
        assert invited.json()["membership_status"] == "invited", invited.text
        if withdraw != "the inviting organization deleted":
            answer = await WITHDRAWALS[withdraw](client, evil, invited.json()["id"], email)
            assert answer.status_code < 300, answer.text
    if withdraw == "the inviting organization deleted":
        assert (await _org_deleted(client, evil, "", "")).status_code == 204
    assert await _rows_of(runtime, accounts) == before
    for email in accounts:
        assert (await login(client, email))["access_token"]


async def test_deleting_the_only_org_of_a_platform_admin_leaves_the_platform_admin(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await _account(runtime, "creator@example.com", platform_admin=True)
    creator = bearer(str((await login(client, "creator@example.com"))["access_token"]))
    created = await client.post("/api/v1/orgs", json={"name": "Solo", "slug": "solo"}, headers=creator)
    assert created.status_code == 201, created.text  # the creator becomes its owner: their only organization
    owner = {"email": "owner-solo@example.com", "password": PASSWORD, "roles": ["owner"]}
    assert (await client.post("/api/v1/orgs/solo/users", json=owner, headers=creator)).status_code == 201
    as_owner = bearer(str((await login(client, owner["email"]))["access_token"]))
    assert (await client.delete("/api/v1/orgs/solo", headers=as_owner)).status_code == 204
    assert (await client.get("/api/v1/me", headers=creator)).json()["platform_admin"] is True
    assert (await login(client, "creator@example.com"))["access_token"]
    assert (await client.post("/api/v1/auth/token", data={"grant_type": "password", **owner})).status_code == 400


# Found by the review of 2026-12-07: an invitation another organization sent kept a removed account alive. Its only
# organization removed it (or was deleted), the account was not deleted and no session ended; once the invitation
# was withdrawn or declined, it was a live account in no organization, for good, signing in with the password the
# organization that removed it had chosen.
async def _removed(client: httpx.AsyncClient, org: Tenant, user_id: str) -> httpx.Response:
    return await client.delete(org.path(f"/users/{user_id}"), headers=org.auth)


async def _deleted(client: httpx.AsyncClient, org: Tenant, _: str) -> httpx.Response:
    return await client.delete(org.path(), headers=org.auth)


@pytest.mark.parametrize("ends", [_removed, _deleted], ids=["removed", "its organization deleted"])
async def test_an_invitation_elsewhere_keeps_no_removed_account_alive_and_is_withdrawn(
    client: httpx.AsyncClient,
    root_token: str,
    ends: Callable[[httpx.AsyncClient, Tenant, str], Awaitable[httpx.Response]],
) -> None:
    acme, initech = await make_tenant(client, root_token, "acme"), await make_tenant(client, root_token, "initech")
    made = await acme.add_user("x@example.com")
    tokens = await login(client, made.email)
    invited = await client.post(initech.path("/members"), json={"email": made.email}, headers=initech.auth)
    assert invited.json()["membership_status"] == "invited", invited.text

    assert (await ends(client, acme, made.id)).status_code == 204

    signed_in = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": made.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 400, signed_in.text  # the account is gone
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 400
    assert (await client.get(initech.path(f"/users/{made.id}"), headers=initech.auth)).status_code == 404
    audit = await client.get(
        initech.path("/audit-events"), params={"action": "member.invitation_withdrawn"}, headers=initech.auth
    )
    [withdrawn] = audit.json()["items"]
    assert withdrawn["target_id"] == made.id
    assert withdrawn["actor_user_id"] is None  # nobody of acme's is named
