"""Found by the security review of eva's create: grants on resources chosen at creation are the inviting
organization's own data about its membership, and are kept on an invitation as its roles are.

eva's ``POST …/users`` with ``environments`` granted them after creating the user. For an address that
has an account elsewhere the creation is an invitation, and changing an invitation is refused: the
request answered 403 and rolled back (no mail to the owner, no audit), while a new address answered
201 — a silent oracle of which addresses have an account. The grants are now stored on the invitation
(they give nothing until the owner accepts) and both addresses answer alike.
"""

import re
from typing import Any

import httpx
import pytest

from tenantry.core.memberships import repository as memberships
from tenantry.core.resources import grants
from tenantry.core.resources import service as resources
from tenantry.runtime import Runtime
from tests.factories import Member, Tenant, accept_invitation, make_tenant
from tests.mailbox import Mailbox
from tests.snapshots import every_row
from tests.trust.conftest import Victim, reveals_nothing
from tests.trust.test_consent import _answer, _audit

ENVIRONMENT = {"type": "environment", "name": "Prod", "external_id": "env-1"}
SUPERVISOR = [{"role": "SUPERVISOR", "environment": {"uuid": "env-1"}}]
CSV_HEADER = "email;name;company;role;password;environmentUuid;environmentName;bot\n"


def _alike(response: httpx.Response, email: str) -> tuple[int, str, str, str]:
    """``test_consent._answer``, but for the moment an eva error names (``timestamp``, in milliseconds)."""
    status, location, etag, text = _answer(response, email)
    return status, location, etag, re.sub(r'"timestamp":\d+', '"timestamp":0', text)


def _users(org: Tenant) -> str:
    return f"/compat/eva/eva-user/org/{org.id}/users"


def _body(email: str, environments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": "Probe", "email": email, "password": "Secret1", "environments": environments or SUPERVISOR}


async def _roles_on(runtime: Runtime, org: Tenant, user_id: str, ref: str) -> list[str]:
    """The roles ``user_id``'s membership of ``org`` holds on the resource ``ref`` (what eva's bots check)."""
    async with runtime.database.transaction(write=False) as session:
        membership = await memberships.get(session, org.id, user_id)
        assert membership is not None
        resource = (await resources.find_many(session, org.id, {ref}))[ref]
        return [role.name for role in await grants.roles_on(session, membership.id, resource)]


@pytest.fixture
async def environment(client: httpx.AsyncClient, other_tenant: Tenant) -> dict[str, Any]:
    """env-1 of the inviting organization, with a bot beneath it."""
    made = await client.post(other_tenant.path("/resources"), json=ENVIRONMENT, headers=other_tenant.auth)
    assert made.status_code == 201, made.text
    bot = {"type": "bot", "name": "Bot", "external_id": "bot-1", "parent_id": made.json()["id"]}
    assert (await client.post(other_tenant.path("/resources"), json=bot, headers=other_tenant.auth)).status_code == 201
    found: dict[str, Any] = made.json()
    return found


@pytest.mark.usefixtures("environment")
async def test_eva_create_with_environments_tells_existing_addresses_apart_silently(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, alice: Victim
) -> None:
    """The review's reproduction: a new address 201, an existing one 403 and no trace (on main)."""
    unknown = await client.post(
        _users(other_tenant), json=_body("nobody-has-this@example.com"), headers=other_tenant.auth
    )
    known = await client.post(_users(other_tenant), json=_body(alice.email), headers=other_tenant.auth)
    audit = await client.get(
        tenant.path("/audit-events"), params={"action": "member.attach_requested"}, headers=tenant.auth
    )
    assert unknown.status_code == 201, unknown.text
    assert (known.status_code, len(audit.json()["items"])) == (201, 1), known.text


@pytest.mark.parametrize(
    "environments",
    [SUPERVISOR, [{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}]],
    ids=["supervisor", "viewer of a bot"],
)
@pytest.mark.usefixtures("environment")
async def test_eva_create_with_environments_answers_a_known_and_an_unknown_address_alike(
    environments: list[dict[str, Any]],
    client: httpx.AsyncClient,
    runtime: Runtime,
    mailbox: Mailbox,
    tenant: Tenant,
    other_tenant: Tenant,
    alice: Victim,
) -> None:
    before = await every_row(runtime)
    await mailbox.deliver()  # the mails of the setup: the owner's join link is the one mail left
    known = await client.post(_users(other_tenant), json=_body(alice.email, environments), headers=other_tenant.auth)
    unknown = await client.post(
        _users(other_tenant), json=_body("nobody@example.com", environments), headers=other_tenant.auth
    )
    assert known.status_code == 201, known.text
    assert _answer(known, alice.email) == _answer(unknown, "nobody@example.com")
    assert reveals_nothing(known.text), known.text
    # Not silent: the owner is mailed and the organization holding the account hears of it.
    assert "/ui/join?token=" in (await mailbox.one_for(alice.email)).link
    requested = await _audit(runtime, tenant.id, "member.attach_requested")
    assert [event.details["organization"] for event in requested] == [other_tenant.id]
    # The account is untouched (the submitted password is not applied), and so is acme's membership.
    after = await every_row(runtime)
    alice_rows = [row for row in before["users"] if row[0] == alice.id]
    assert [row for row in after["users"] if row[0] == alice.id] == alice_rows
    assert [row for row in after["memberships"] if tenant.id in row] == [
        row for row in before["memberships"] if tenant.id in row
    ]
    # The invitation shows the grants chosen for it, as the new account's do; reads agree with the answer.
    shown = await client.get(f"{_users(other_tenant)}/{alice.id}", headers=other_tenant.auth)
    assert shown.json()["environments"] == known.json()["environments"] == unknown.json()["environments"]


@pytest.mark.usefixtures("environment")
async def test_the_grants_of_an_invitation_take_effect_when_its_owner_accepts(
    client: httpx.AsyncClient, runtime: Runtime, other_tenant: Tenant, alice: Victim
) -> None:
    created = await client.post(_users(other_tenant), json=_body(alice.email), headers=other_tenant.auth)
    assert created.status_code == 201, created.text
    # Until then the invitation is no membership: alice reaches nothing of the inviting organization, and
    # its grants give no role on the environment (nor on what lies beneath it).
    assert (await client.get(_users(other_tenant), headers=alice.member.auth)).status_code == 404
    assert await _roles_on(runtime, other_tenant, alice.id, "bot-1") == []
    await accept_invitation(runtime, alice.id, other_tenant.id)
    assert await _roles_on(runtime, other_tenant, alice.id, "bot-1") == ["supervisor"]
    scoped = await client.get(other_tenant.path(f"/users/{alice.id}/scoped-roles"), headers=other_tenant.auth)
    assert [(g["role"], g["resource_name"]) for g in scoped.json()] == [("supervisor", "Prod")]
    mine = await client.get(f"{_users(other_tenant)}/identity-provider", headers=alice.member.auth)
    assert mine.status_code == 200, mine.text
    assert [entry["environment"]["uuid"] for entry in mine.json()["environments"]] == ["env-1"]


@pytest.mark.usefixtures("environment")
async def test_eva_bulk_create_keeps_the_environments_of_an_invitation(
    client: httpx.AsyncClient, runtime: Runtime, other_tenant: Tenant, alice: Victim
) -> None:
    """The bulk import answered alike already, but dropped the environments of an existing address."""
    rows = "".join(f"{email};Probe;;SUPERVISOR;Secret1;env-1;Prod;\n" for email in (alice.email, "new@example.com"))
    files = {"file": ("users.csv", (CSV_HEADER + rows).encode(), "text/csv")}
    created = await client.post(f"{_users(other_tenant)}/bulk-create", files=files, headers=other_tenant.auth)
    assert created.status_code == 200, created.text
    assert created.json()["errors"] == []
    listed = await client.get(_users(other_tenant), params={"linesPerPage": 10}, headers=other_tenant.auth)
    environments = {user["email"]: user["environments"] for user in listed.json()["content"]}
    assert environments[alice.email] == environments["new@example.com"] != []
    await accept_invitation(runtime, alice.id, other_tenant.id)
    scoped = await client.get(other_tenant.path(f"/users/{alice.id}/scoped-roles"), headers=other_tenant.auth)
    assert [g["role"] for g in scoped.json()] == ["supervisor"]


@pytest.mark.usefixtures("environment")
async def test_an_invitations_grants_change_only_as_its_other_writes_do(
    client: httpx.AsyncClient, runtime: Runtime, other_tenant: Tenant, alice: Victim
) -> None:
    """After the (audited, mailed) invitation, eva's writes to it are refused as every surface's are (the
    documented difference that follows an invitation), and change nothing."""
    created = await client.post(_users(other_tenant), json=_body(alice.email), headers=other_tenant.auth)
    assert created.status_code == 201, created.text
    before = await every_row(runtime)
    auth = other_tenant.auth
    viewer = [{"role": "VIEWER", "environment": {"uuid": "env-1"}, "bots": [{"uuid": "bot-1"}]}]
    refused = [
        await client.put(f"{_users(other_tenant)}/{alice.id}", json={"environments": []}, headers=auth),
        await client.put(f"{_users(other_tenant)}/{alice.id}", json={"environments": SUPERVISOR}, headers=auth),
        await client.put(f"{_users(other_tenant)}/{alice.id}", json={"admin": True}, headers=auth),
        await client.put(other_tenant.path(f"/users/{alice.id}/scoped-roles"), json={"grants": []}, headers=auth),
    ]
    assert [response.status_code for response in refused] == [403] * 4, [r.text for r in refused]
    bulk = [
        await client.request(
            "DELETE",
            f"{_users(other_tenant)}/bulk-permissions",
            json={"uuids": [alice.id], "environments": SUPERVISOR},
            headers=auth,
        ),
        await client.post(
            f"{_users(other_tenant)}/bulk-permissions", json={"uuids": [alice.id], "environments": viewer}, headers=auth
        ),
    ]
    assert [response.status_code for response in bulk] == [422, 422], [r.text for r in bulk]
    assert await every_row(runtime) == before
    assert reveals_nothing(" ".join(r.text for r in [*refused, *bulk]))


@pytest.mark.usefixtures("environment")
async def test_grants_an_actor_may_not_hand_out_are_refused_alike_for_both_addresses(
    client: httpx.AsyncClient, runtime: Runtime, other_tenant: Tenant, alice: Victim
) -> None:
    """The scoped roles are checked before the address is looked up: a refusal tells nothing either."""
    role = {"name": "creator", "permissions": ["users:create", "orgs:read", "users:read", "roles:read"]}
    assert (await client.post(other_tenant.path("/roles"), json=role, headers=other_tenant.auth)).status_code == 201
    creator = await other_tenant.add_user("creator@example.com", roles=["creator"])
    before = await every_row(runtime)
    known = await client.post(_users(other_tenant), json=_body(alice.email), headers=creator.auth)
    unknown = await client.post(_users(other_tenant), json=_body("nobody@example.com"), headers=creator.auth)
    assert known.status_code == 403, known.text
    assert _alike(known, alice.email) == _alike(unknown, "nobody@example.com")
    assert await every_row(runtime) == before


async def test_a_partner_creating_with_environments_attaches_no_account(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    """As without environments (tests/trust/test_partner_attach.py): refused, nothing written."""
    made = await client.post(tenant.path("/resources"), json=ENVIRONMENT, headers=tenant.auth)
    assert made.status_code == 201, made.text
    partner = await make_tenant(client, root_token, "partner-co")
    link = {"partner_org": partner.slug, "role": "admin"}
    assert (await client.post(tenant.path("/partners"), json=link, headers=tenant.auth)).status_code == 201
    agent: Member = await partner.add_user("agent@partner.example", roles=["admin"])
    outsider = await other_tenant.add_user("outsider@example.com")
    before = await every_row(runtime)
    refused = await client.post(_users(tenant), json=_body(outsider.email), headers=agent.auth)
    assert refused.status_code == 403, refused.text
    assert "partner" in refused.text
    assert await every_row(runtime) == before
    created = await client.post(_users(tenant), json=_body("new@example.com"), headers=agent.auth)
    assert created.status_code == 201, created.text
