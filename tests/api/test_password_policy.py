"""PATCH /orgs/{org} password_policy, and where each policy applies."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, accept_invitation, make_tenant

STRICT = {"min_length": 14, "require_digit": True, "require_symbol": True, "blocked_words": ["rocket"]}


async def _set_policy(client: httpx.AsyncClient, tenant: Tenant, policy: dict[str, object] | None) -> httpx.Response:
    return await client.patch(tenant.path(), json={"password_policy": policy}, headers=tenant.auth)


async def test_an_org_shows_the_nist_defaults_until_it_changes_them(client: httpx.AsyncClient, tenant: Tenant) -> None:
    org = (await client.get(tenant.path(), headers=tenant.auth)).json()
    assert org["password_policy"] == {
        "min_length": 8,
        "max_length": 128,
        "require_lowercase": False,
        "require_uppercase": False,
        "require_digit": False,
        "require_symbol": False,
        "min_character_classes": 0,
        "block_common": True,
        "block_context": True,
        "blocked_words": [],
    }


async def test_changing_the_policy_keeps_unnamed_rules_and_null_restores_the_defaults(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await _set_policy(client, tenant, STRICT)).status_code == 200
    changed = await _set_policy(client, tenant, {"require_uppercase": True})
    policy = changed.json()["password_policy"]
    assert (policy["min_length"], policy["require_digit"], policy["require_uppercase"]) == (14, True, True)
    assert policy["blocked_words"] == ["rocket"]
    restored = await _set_policy(client, tenant, None)
    assert restored.json()["password_policy"]["min_length"] == 8
    assert "password_policy" not in restored.json()["settings"]


async def test_invalid_policies_are_422_naming_the_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cases = [
        ({"min_length": 0}, "password_policy.min_length"),
        ({"max_length": 5000}, "password_policy.max_length"),
        ({"min_length": 50, "max_length": 20}, "password_policy.max_length"),
        ({"min_character_classes": 5}, "password_policy.min_character_classes"),
        ({"require_digit": None}, "password_policy.require_digit"),
        ({"unknown_rule": True}, "password_policy.unknown_rule"),
    ]
    for policy, field in cases:
        response = await _set_policy(client, tenant, policy)
        assert response.status_code == 422, policy
        assert field in [error["field"] for error in response.json()["errors"]], response.json()


async def test_only_holders_of_orgs_update_change_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    supervisor = await tenant.add_user(roles=["supervisor"])
    response = await client.patch(tenant.path(), json={"password_policy": STRICT}, headers=supervisor.auth)
    assert response.status_code == 403


async def test_the_org_policy_applies_when_creating_users_and_names_every_broken_rule(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await _set_policy(client, tenant, STRICT)
    response = await client.post(
        tenant.path("/users"), json={"email": "new@example.com", "password": "rocketeers"}, headers=tenant.auth
    )
    assert response.status_code == 422
    assert [(error["field"], error["message"]) for error in response.json()["errors"]] == [
        ("password", "must be at least 14 characters (min_length)"),
        ("password", "must contain a digit (require_digit)"),
        ("password", "must contain a symbol (require_symbol)"),
        ("password", "must not contain 'rocket' (blocked_words)"),
    ]
    accepted = await client.post(
        tenant.path("/users"), json={"email": "new@example.com", "password": "lunar-orbit-2031"}, headers=tenant.auth
    )
    assert accepted.status_code == 201


async def test_blocklisted_and_too_short_passwords_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for password, message in (
        ("iloveyou", "is a commonly used password (block_common)"),
        ("Password1", "is a commonly used password (block_common)"),
        ("k9!x", "must be at least 8 characters (min_length)"),
        ("new-acme-login", "must not contain your email address, your name or the organization's name (block_context)"),
    ):
        response = await client.post(
            tenant.path("/users"), json={"email": "new@example.com", "password": password}, headers=tenant.auth
        )
        assert response.status_code == 422, password
        assert [error["message"] for error in response.json()["errors"]] == [message]


async def test_the_org_policy_applies_when_an_admin_sets_a_password(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    await _set_policy(client, tenant, STRICT)
    refused = await client.post(
        tenant.path(f"/users/{member.id}/password"), json={"password": "short"}, headers=tenant.auth
    )
    assert refused.status_code == 422


async def test_ones_own_change_meets_the_strictest_policy_of_ones_orgs(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, tenant: Tenant
) -> None:
    other = await make_tenant(client, root_token, "initech")
    member = await tenant.add_user()
    await client.post(other.path("/members"), json={"email": member.email}, headers=other.auth)
    await accept_invitation(runtime, member.id, other.slug)
    await _set_policy(client, tenant, {"min_length": 12})
    await _set_policy(client, other, {"require_digit": True})

    async def change(new_password: str) -> httpx.Response:
        body = {"current_password": PASSWORD, "new_password": new_password}
        return await client.post("/api/v1/me/password", json=body, headers=member.auth)

    refused = await change("short-1")
    assert [error["message"] for error in refused.json()["errors"]] == ["must be at least 12 characters (min_length)"]
    refused = await change("long enough but digitless")
    assert [error["message"] for error in refused.json()["errors"]] == ["must contain a digit (require_digit)"]
    refused = await change("initech-forever-2031")
    assert refused.json()["errors"][0]["field"] == "new_password"
    assert (await change("long enough with 1 digit")).status_code == 204
