"""Races users will produce: many clients creating the same account at once, one new address created in two
organizations at once, a member changed while it is removed, an organization deleted while a user is created
in it, changes of members through different surfaces at once. PostgreSQL runs them side by side; SQLite's
writers take turns, so there they pin the answers one after the other gives."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tenantry.auth import brute_force
from tenantry.core.memberships import repository as membership_rows
from tenantry.core.memberships.models import Membership
from tenantry.core.provisioning import repository as provisioning_rows
from tenantry.core.users import email_change
from tenantry.core.users import service as accounts
from tenantry.core.users.models import USER_DELETED, User
from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, make_tenant
from tests.locks import Paused, until_waiting
from tests.mailbox import Mailbox, csrf_of
from tests.scim.conftest import PATCH_OP, SCIM_JSON, provisioning_key

EDITOR = "000000000000000000000005"
"""The built-in editor role: a SCIM Group."""


async def test_fifty_concurrent_creates_of_one_email_give_one_success(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def create(index: int) -> int:
        response = await client.post(
            tenant.path("/users"),
            json={"email": "Race@Example.com" if index % 2 else "race@example.com", "first_name": f"n{index}"},
            headers=tenant.auth,
        )
        return response.status_code

    statuses = Counter(await asyncio.gather(*(create(index) for index in range(50))))
    assert statuses == Counter({201: 1, 409: 49})
    page = await client.get(tenant.path("/users"), params={"q": "race@"}, headers=tenant.auth)
    assert len(page.json()["items"]) == 1


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the answer a server would send (a 500), not the exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as served:
        yield served


Change = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


async def _changed_while_removed(served: httpx.AsyncClient, tenant: Tenant, change: Change) -> list[tuple[int, int]]:
    """Ten times: a new member is removed while ``change`` changes it; the statuses of each round."""
    rounds = []
    for _ in range(10):
        member = await tenant.add_user(roles=["member"], password=None)
        removed, changed = await asyncio.gather(
            served.delete(tenant.path(f"/users/{member.id}"), headers=tenant.auth), change(served, member.id)
        )
        rounds.append((removed.status_code, changed.status_code))
    return rounds


async def test_roles_set_while_the_member_is_removed_answer_before_or_after_the_removal(
    served: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def set_roles(served: httpx.AsyncClient, user_id: str) -> httpx.Response:
        return await served.put(tenant.path(f"/users/{user_id}/roles"), json={"roles": ["admin"]}, headers=tenant.auth)

    rounds = await _changed_while_removed(served, tenant, set_roles)
    assert all(removed == 204 and changed in (200, 404) for removed, changed in rounds), rounds


async def test_an_update_while_the_member_is_removed_answers_before_or_after_the_removal(
    served: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def update(served: httpx.AsyncClient, user_id: str) -> httpx.Response:
        return await served.patch(tenant.path(f"/users/{user_id}"), json={"attributes": {"a": 1}}, headers=tenant.auth)

    rounds = await _changed_while_removed(served, tenant, update)
    assert all(removed == 204 and changed in (200, 404) for removed, changed in rounds), rounds


async def test_a_user_created_while_the_organization_is_deleted_leaves_no_live_account_in_it(
    client: httpx.AsyncClient, root_token: str, runtime: Runtime
) -> None:
    """Ten times: an organization is deleted while a user is created in it."""
    left = []
    for attempt in range(10):
        tenant = await make_tenant(client, root_token, f"doomed-{attempt}")
        email = f"late-{attempt}@example.com"
        created, deleted = await asyncio.gather(
            client.post(tenant.path("/users"), json={"email": email, "password": PASSWORD}, headers=tenant.auth),
            client.delete(tenant.path(), headers=tenant.auth),
        )
        # Before the deletion: 201; after it: 404, or 401 once it ended the owner's account with the organization.
        assert created.status_code in (201, 401, 404), created.text
        assert deleted.status_code == 204, deleted.text
        async with runtime.database.transaction(write=False) as session:
            account = (await session.scalars(select(User).where(User.email == email))).first()
            kept = list(await session.scalars(select(Membership).where(Membership.org_id == tenant.id)))
        if (account is not None and account.status != USER_DELETED) or kept:
            left.append((attempt, created.status_code, account and account.status, len(kept)))
    assert left == []


async def test_one_new_address_created_in_two_organizations_at_once_is_two_201s_as_one_after_the_other(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Five times: one after the other, the second organization's create attaches the account as an invitation;
    at once, it must not answer that the address has an account."""
    for attempt in range(5):
        body = {"email": f"shared-{attempt}@example.com", "first_name": "S"}
        answers = await asyncio.gather(
            client.post(tenant.path("/users"), json=body, headers=tenant.auth),
            client.post(other_tenant.path("/users"), json=body, headers=other_tenant.auth),
        )
        assert [answer.status_code for answer in answers] == [201, 201], [answer.text for answer in answers]


Request = Coroutine[Any, Any, httpx.Response]


async def _interleaved(paused: Paused, runtime: Runtime, first: Request, second: Request) -> list[int]:
    """``first`` runs until ``paused`` (between two of its locks), ``second`` until it waits for one of them,
    then both go on; their statuses. Taking two locks in opposite orders, they deadlocked (a 500)."""
    started = asyncio.create_task(first)
    await paused.reached()
    other = asyncio.create_task(second)
    await until_waiting(runtime)
    paused.release()
    answers = await asyncio.wait_for(asyncio.gather(started, other), 30)
    return [answer.status_code for answer in answers]


def _group_patch(op: str, user_id: str) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": "members", "value": [{"value": user_id}]}]}


async def _scim_headers(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {await provisioning_key(tenant)}", "Content-Type": SCIM_JSON}


async def test_a_role_change_and_a_group_change_of_one_member_at_once_both_answer(
    served: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role change held the membership, then asked for the organization's owners' hold; the group change
    held that, then wrote the membership."""
    member = await tenant.add_user(roles=["member"], password=None)
    headers = await _scim_headers(tenant)
    statuses = await _interleaved(
        Paused(monkeypatch, membership_rows, "lock"),
        runtime,
        served.put(tenant.path(f"/users/{member.id}/roles"), json={"roles": ["editor"]}, headers=tenant.auth),
        served.patch(f"/scim/v2/{tenant.slug}/Groups/{EDITOR}", json=_group_patch("add", member.id), headers=headers),
    )
    assert statuses == [200, 204]


async def test_a_group_change_and_a_role_change_of_another_member_at_once_both_answer(
    served: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group change held the role's state, then asked for the owners' hold; the role change held that, then
    wrote the role's new version into its state."""
    u, v = [await tenant.add_user(roles=["member"], password=None) for _ in range(2)]
    for roles in (["editor"], ["member"]):  # the editor role's state row exists from here
        changed = await served.put(tenant.path(f"/users/{v.id}/roles"), json={"roles": roles}, headers=tenant.auth)
        assert changed.status_code == 200, changed.text
    headers = await _scim_headers(tenant)
    statuses = await _interleaved(
        Paused(monkeypatch, provisioning_rows, "lock_role_state"),
        runtime,
        served.patch(f"/scim/v2/{tenant.slug}/Groups/{EDITOR}", json=_group_patch("add", v.id), headers=headers),
        served.put(tenant.path(f"/users/{u.id}/roles"), json={"roles": ["editor"]}, headers=tenant.auth),
    )
    assert statuses == [204, 200]


async def test_a_removal_and_a_bulk_removal_of_the_same_member_at_once_both_answer(
    served: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eva's bulk-delete held the owners' hold from its first removal, then asked for its second member's row;
    the removal of that member held the row, then asked for the owners' hold."""
    first, second = [await tenant.add_user(roles=["member"], password=None) for _ in range(2)]
    bulk = f"/compat/eva/eva-user/org/{tenant.id}/users/bulk-delete"
    statuses = await _interleaved(
        Paused(monkeypatch, membership_rows, "lock"),
        runtime,
        served.delete(tenant.path(f"/users/{second.id}"), headers=tenant.auth),
        served.request("DELETE", bulk, json={"uuids": [first.id, second.id]}, headers=tenant.auth),
    )
    assert statuses == [204, 200]


async def test_a_role_change_and_a_partner_revocation_disabling_its_member_at_once_both_answer(
    served: httpx.AsyncClient,
    client: httpx.AsyncClient,
    root_token: str,
    tenant: Tenant,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The revocation (``disable_created``) read the partner's accounts unlocked, held the owners' hold to disable
    the first and then wrote the second's membership, which the role change held while it asked for that hold."""
    partner = await make_tenant(client, root_token, "partner-co")
    linked = await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    created = []
    for name in ("b1", "b2"):
        body = {"email": f"{name}@example.com", "first_name": name, "password": PASSWORD}
        answer = await client.post(tenant.path("/users"), json=body, headers=partner.auth)
        assert answer.status_code == 201, answer.text
        created.append(answer.json()["id"])
    statuses = await _interleaved(
        Paused(monkeypatch, membership_rows, "lock"),
        runtime,
        served.put(tenant.path(f"/users/{created[1]}/roles"), json={"roles": ["editor"]}, headers=tenant.auth),
        served.delete(tenant.path(f"/partners/{partner.slug}?disable_created=true"), headers=tenant.auth),
    )
    assert statuses == [200, 200]


NEW_PASSWORD = "a brand new passphrase for this race"
SCIM_ACCOUNT_CHANGES: dict[str, dict[str, Any]] = {
    "rename and deactivate": {"name.givenName": "Renamed", "active": False},
    "rename and new password": {"name.givenName": "Renamed", "password": NEW_PASSWORD},
}


@pytest.mark.parametrize("change", SCIM_ACCOUNT_CHANGES)
async def test_a_scim_account_change_while_its_user_signs_in_answers_both(
    served: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The sign-in holds the account's lock from its check of the password to its commit, where it writes the
    account's row; SCIM wrote the account's row (the name), then asked for that lock (ending the sessions)."""
    member = await tenant.add_user(roles=["member"])
    operations = [
        {"op": "replace", "path": path, "value": value} for path, value in SCIM_ACCOUNT_CHANGES[change].items()
    ]
    url, headers = f"/scim/v2/{tenant.slug}/Users/{member.id}", await _scim_headers(tenant)
    sign_in = {"grant_type": "password", "username": member.email, "password": PASSWORD}
    statuses = await _interleaved(
        Paused(monkeypatch, brute_force, "verify_password"),
        runtime,
        served.post("/api/v1/auth/token", data=sign_in),
        served.patch(url, json={"schemas": [PATCH_OP], "Operations": operations}, headers=headers),
    )
    assert statuses == [200, 200]


async def test_an_address_changed_to_one_another_organization_creates_at_once_answers_both(
    served: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change wrote the account's new address (its unique index entry, not committed), then asked for the new
    address's lock; the create held that lock and its INSERT waited for the index entry. One after the other,
    the address has moved and the create invites its account."""
    member = await tenant.add_user(roles=["member"])
    address = "moving-target@example.com"
    statuses = await _interleaved(
        Paused(monkeypatch, email_change, "revoke_sessions", before=True),
        runtime,
        served.patch(tenant.path(f"/users/{member.id}"), json={"email": address}, headers=tenant.auth),
        served.post(other_tenant.path("/users"), json={"email": address, "first_name": "N"}, headers=other_tenant.auth),
    )
    assert statuses == [200, 201]


async def test_an_invited_member_activating_while_the_organization_is_deleted_answers_both(
    served: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The activation holds the account's lock from its new password on, then writes the invited membership; the
    deletion held the organization and deleted its memberships, then asked for each orphan's account lock."""
    email = "invitee@example.com"
    created = await served.post(tenant.path("/users"), json={"email": email, "first_name": "I"}, headers=tenant.auth)
    assert created.status_code == 201, created.text
    page = urlsplit((await Mailbox(runtime).one_for(email)).link)
    opened = await served.get(f"{page.path}?{page.query}")
    assert opened.status_code == 200, opened.text
    password = "a fine first passphrase"
    form = {"token": page.query.split("token=", 1)[1], "password": password, "password_repeat": password}
    served.cookies.update(opened.cookies)
    paused = Paused(monkeypatch, accounts, "revoke_sessions")
    activation = asyncio.create_task(served.post(page.path, data={**form, "csrf_token": csrf_of(opened.text)}))
    await paused.reached()
    deletion = asyncio.create_task(served.delete(tenant.path(), headers=tenant.auth))
    await asyncio.wait({deletion}, timeout=1)  # it no longer waits for the account (SQLite: for the write lock)
    paused.release()
    answers = await asyncio.wait_for(asyncio.gather(activation, deletion), 30)
    assert [answer.status_code for answer in answers] == [303, 204], [answer.text[:200] for answer in answers]
