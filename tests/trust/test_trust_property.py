"""Property: whatever organizations do — attach, accept, decline, remove, link a partner, revoke it — no
organization ever reads or writes another organization's data about a member.

Three organizations, three accounts (each created by one of them, with that organization's attributes),
random sequences of steps through the native API; after every step each organization's view of its
members is checked against a model of what it wrote itself.
"""

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, accept_invitation, make_tenant
from tests.trust.conftest import decline_invitation

ORGS = range(3)
STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["attach", "accept", "decline", "remove", "write"]),
            st.sampled_from(ORGS),
            st.sampled_from(ORGS),
        ),
        st.tuples(st.sampled_from(["link", "revoke"]), st.sampled_from(ORGS), st.sampled_from(ORGS)),
        st.tuples(st.just("partner attach"), st.sampled_from(ORGS), st.sampled_from(ORGS)),
        st.tuples(st.just("partner write"), st.sampled_from(ORGS), st.sampled_from(ORGS), st.sampled_from(ORGS)),
    ),
    max_size=14,
)


@dataclass
class World:
    orgs: list[Tenant]
    accounts: list[Member]
    member_of: dict[tuple[int, int], str] = field(default_factory=dict)
    """(org, account) -> "pending" | "joined"."""
    attributes: dict[tuple[int, int], dict[str, object]] = field(default_factory=dict)
    partners: set[tuple[int, int]] = field(default_factory=set)
    """(customer, partner)."""
    writes: int = 0


async def _world(client: httpx.AsyncClient, root_token: str) -> World:
    run = secrets.token_hex(3)
    orgs = [await make_tenant(client, root_token, f"p{run}-{index}") for index in ORGS]
    world = World(orgs, [])
    for index, org in enumerate(orgs):
        marker = {"written_by": org.slug}
        world.accounts.append(await org.add_user(f"a{index}-{run}@example.com", attributes=marker))
        world.member_of[index, index] = "joined"
        world.attributes[index, index] = marker
    return world


async def _step(client: httpx.AsyncClient, runtime: Runtime, world: World, step: tuple[Any, ...]) -> None:
    if step[0] == "partner write":
        await _partner_write(client, world, *step[1:])
        return
    action, i, j = step
    org, account = world.orgs[i], world.accounts[j]
    state = world.member_of.get((i, j))
    if action == "attach":
        response = await client.post(org.path("/members"), json={"email": account.email}, headers=org.auth)
        assert response.status_code == (409 if state else 201), response.text
        if not state:
            world.member_of[i, j] = "pending"
            world.attributes[i, j] = {}
    elif action in {"accept", "decline"} and state == "pending":
        if action == "accept":
            await accept_invitation(runtime, account.id, org.slug)
            world.member_of[i, j] = "joined"
        else:
            await decline_invitation(runtime, account.id, org.slug)
            del world.member_of[i, j], world.attributes[i, j]
    elif action == "remove" and state and sum(key[1] == j for key in world.member_of) > 1:
        response = await client.delete(org.path(f"/users/{account.id}"), headers=org.auth)
        assert response.status_code == 204, response.text
        del world.member_of[i, j], world.attributes[i, j]
    elif action == "write" and state:
        world.writes += 1
        value = {"written_by": org.slug, "n": world.writes}
        response = await client.patch(org.path(f"/users/{account.id}"), json={"attributes": value}, headers=org.auth)
        assert response.status_code == (200 if state == "joined" else 403), response.text
        if state == "joined":
            world.attributes[i, j] = value
    elif action == "link" and i != j and (i, j) not in world.partners:
        body = {"partner_org": world.orgs[j].slug, "role": "admin"}
        assert (await client.post(org.path("/partners"), json=body, headers=org.auth)).status_code == 201
        world.partners.add((i, j))
    elif action == "revoke" and (i, j) in world.partners:
        response = await client.delete(org.path(f"/partners/{world.orgs[j].id}"), headers=org.auth)
        assert response.status_code == 200, response.text
        assert response.json()["created_accounts"] == [], response.text  # the partner created no account here
        world.partners.discard((i, j))
    elif action == "partner attach" and i != j:
        # The partner's owner tries to bring its own account into its customer (refused, or 404 unlinked).
        partner = world.orgs[j]
        response = await client.post(org.path("/members"), json={"user_id": partner.owner.id}, headers=partner.auth)
        assert response.status_code == (403 if (i, j) in world.partners else 404), response.text


async def _partner_write(client: httpx.AsyncClient, world: World, i: int, j: int, k: int) -> None:
    """Partner ``j``, acting in its customer ``i``, writes ``i``'s data about account ``k``: allowed while linked
    and ``k`` has joined ``i`` (the customer's own data, written for it), refused otherwise, and never seen by
    another organization."""
    if i == j:
        return
    customer, partner, account = world.orgs[i], world.orgs[j], world.accounts[k]
    state = world.member_of.get((i, k))
    world.writes += 1
    value = {"written_by": customer.slug, "n": world.writes}
    path = customer.path(f"/users/{account.id}")
    response = await client.patch(path, json={"attributes": value}, headers=partner.auth)
    if (i, j) not in world.partners or state is None:
        assert response.status_code == 404, response.text
    elif state == "pending":
        assert response.status_code == 403, response.text
    else:
        assert response.status_code == 200, response.text
        world.attributes[i, k] = value


async def _check(client: httpx.AsyncClient, world: World) -> None:
    for i, org in enumerate(world.orgs):
        listed = await client.get(org.path("/users"), params={"limit": 200}, headers=org.auth)
        assert listed.status_code == 200
        items = {item["id"]: item for item in listed.json()["items"]}
        for j, account in enumerate(world.accounts):
            state = world.member_of.get((i, j))
            if state is None:
                assert account.id not in items
                continue
            seen = items[account.id]
            assert seen["attributes"] == world.attributes[i, j]
            if state == "pending":
                assert seen["membership_status"] == "invited"
                assert (seen["first_name"], seen["last_name"], seen["locale"]) == ("", "", None)
        others = [other.slug for k, other in enumerate(world.orgs) if k != i]
        assert not any(f'"written_by":"{slug}"' in listed.text for slug in others), listed.text


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
@example(
    steps=[
        ("link", 0, 1),
        ("attach", 0, 2),
        ("partner write", 0, 1, 0),
        ("partner write", 0, 1, 2),
        ("accept", 0, 2),
        ("partner write", 0, 1, 2),
        ("partner attach", 0, 1),
        ("revoke", 0, 1),
        ("partner write", 0, 1, 0),
        ("partner attach", 0, 1),
    ]
)
@example(steps=[("attach", 1, 0), ("write", 1, 0), ("decline", 1, 0), ("attach", 1, 0), ("accept", 1, 0)])
@example(steps=[("attach", 2, 0), ("accept", 2, 0), ("write", 2, 0), ("remove", 2, 0), ("write", 0, 0)])
async def test_no_organization_reads_or_writes_another_organizations_member_data(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, steps: list[tuple[str, int, int]]
) -> None:
    world = await _world(client, root_token)
    await _check(client, world)
    for step in steps:
        await _step(client, runtime, world, step)
        await _check(client, world)
