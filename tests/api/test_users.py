"""Users of an organization: create, read, search, page, change."""

import httpx
import pytest

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, accept_invitation, bearer
from tests.statements import sent_statements


async def test_create_returns_the_documented_user_object(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        tenant.path("/users"),
        json={"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "roles": ["admin", "viewer"]},
        headers=tenant.auth,
    )
    assert response.status_code == 201
    user = response.json()
    assert set(user) >= {
        "id", "email", "first_name", "last_name", "status", "email_verified", "roles",
        "membership_status", "created_at", "updated_at", "last_login_at",
    }  # fmt: skip
    assert len(user["id"]) == 24
    assert user["roles"] == ["admin", "viewer"]
    assert user["status"] == user["membership_status"] == "invited"
    assert not {"password", "password_hash"} & set(user)


async def test_roles_are_named_by_name_or_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    roles = (await client.get(tenant.path("/roles"), headers=tenant.auth)).json()
    viewer_id = next(role["id"] for role in roles if role["name"] == "viewer")
    response = await client.post(
        tenant.path("/users"), json={"email": "v@example.com", "roles": [viewer_id]}, headers=tenant.auth
    )
    assert response.json()["roles"] == ["viewer"]


async def test_unknown_role_is_422_naming_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        tenant.path("/users"), json={"email": "v@example.com", "roles": ["member", "wizard"]}, headers=tenant.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "roles[1]", "message": "unknown role 'wizard'"}]


async def test_duplicate_email_is_409_in_any_case(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await tenant.add_user("dup@example.com")
    again = await client.post(tenant.path("/users"), json={"email": "DUP@Example.com"}, headers=tenant.auth)
    assert again.status_code == 409
    # Another organization learns nothing: the account is invited, as a new address would be.
    elsewhere = await client.post(
        other_tenant.path("/users"), json={"email": "dup@example.com"}, headers=other_tenant.auth
    )
    assert elsewhere.status_code == 201
    assert elsewhere.json()["membership_status"] == "invited"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@example.com", "first_name": "x" * 201}, "first_name"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "surprise": 1}, "surprise"),
        ({"email": "a@example.com", "attributes": {"k": "\u0000"}}, "attributes"),
        ({"email": "a@example.com", "roles": "admin"}, "roles"),
        ({}, "email"),
    ],
)
async def test_invalid_create_is_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object], field: str
) -> None:
    response = await client.post(tenant.path("/users"), json=body, headers=tenant.auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_search_is_a_case_insensitive_partial_match(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await tenant.add_user("alice.smith@example.com", first_name="Alice", last_name="Smith")
    await tenant.add_user("bob@corp.example", first_name="Robert", last_name="Smithers")
    await tenant.add_user("carol@example.com", first_name="Carol", last_name="Jones")

    async def emails(q: str) -> list[str]:
        page = await client.get(tenant.path("/users"), params={"q": q}, headers=tenant.auth)
        return sorted(user["email"] for user in page.json()["items"])

    assert await emails("SMITH") == ["alice.smith@example.com", "bob@corp.example"]
    assert await emails("corp.EX") == ["bob@corp.example"]
    assert await emails("rol") == ["carol@example.com"]
    assert await emails("%") == []
    assert await emails("_") == []


async def test_search_never_crosses_organizations(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await other_tenant.add_user("secret@globex.example")
    page = await client.get(tenant.path("/users"), params={"q": "globex"}, headers=tenant.auth)
    assert page.json()["items"] == []


async def test_keyset_pagination_walks_every_user_once(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # acme starts with two members: the platform admin who created it and its owner.
    for index in range(7):
        await tenant.add_user(f"p{index}@example.com", password=None)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(tenant.path("/users"), params=params, headers=tenant.auth)).json()
        assert len(page["items"]) <= 3
        seen += [user["id"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9
    assert seen == sorted(seen)


async def test_a_listed_user_is_the_object_get_user_answers(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The list page is serialized from its members' fields without a model per member (``web.serialized``);
    each item must still be, byte for byte, what the response model writes for that user."""
    created = await client.post(
        tenant.path("/users"),
        json={"email": "Ada@Example.com", "first_name": "Ada", "last_name": "Lovelace", "roles": ["viewer", "admin"]},
        headers=tenant.auth,
    )
    user_id = created.json()["id"]
    changes = {
        "locale": "fr-FR",
        "avatar_url": "https://example.com/ada.png",
        "attributes": {"team": "engines", "level": 3, "tags": ["a", "é \u2028"], "nested": {}},
        "settings": {"theme": None},
        "region": "FR",
    }
    patched = await client.patch(tenant.path(f"/users/{user_id}"), json=changes, headers=tenant.auth)
    assert patched.status_code == 200, patched.text
    page = await client.get(tenant.path("/users"), params={"limit": 200}, headers=tenant.auth)
    assert page.headers["content-type"] == "application/json"
    assert page.json()["items"]
    for item in page.json()["items"]:
        one = await client.get(tenant.path(f"/users/{item['id']}"), headers=tenant.auth)
        assert one.json() == item
        assert list(one.json()) == list(item)  # the same fields, in the same order


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"cursor": "bogus"}, {"status": "gone"}])
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, object]
) -> None:
    response = await client.get(tenant.path("/users"), params=params, headers=tenant.auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == next(iter(params))


async def test_status_and_role_filters(client: httpx.AsyncClient, root_token: str, tenant: Tenant) -> None:
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    invited = await tenant.add_user("invited@example.com", password=None)
    viewer = await tenant.add_user("viewer@example.com", roles=["viewer"])
    disabled = await tenant.add_user("disabled@example.com")
    await client.post(tenant.path(f"/users/{disabled.id}/disable"), headers=tenant.auth)

    async def ids(**params: str) -> set[str]:
        page = await client.get(tenant.path("/users"), params=params, headers=tenant.auth)
        return {user["id"] for user in page.json()["items"]}

    assert await ids(status="invited") == {invited.id}
    assert await ids(status="disabled") == {disabled.id}
    assert await ids(status="active") == {viewer.id, tenant.owner.id, root_id}
    assert await ids(role="viewer") == {viewer.id}
    assert (await client.get(tenant.path("/users"), params={"role": "nope"}, headers=tenant.auth)).status_code == 422


async def test_patch_changes_profile(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user("p@example.com")
    response = await client.patch(
        tenant.path(f"/users/{member.id}"),
        json={"first_name": "New", "locale": "fr-CA", "attributes": {"team": "blue"}},
        headers=tenant.auth,
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "New"
    assert response.json()["attributes"] == {"team": "blue"}


async def test_email_change_conflicts_and_unverifies(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await tenant.add_user("first@example.com", email_verified=True)
    await tenant.add_user("second@example.com")
    taken = await client.patch(
        tenant.path(f"/users/{first.id}"), json={"email": "SECOND@example.com"}, headers=tenant.auth
    )
    assert taken.status_code == 409
    moved = await client.patch(
        tenant.path(f"/users/{first.id}"), json={"email": "third@example.com"}, headers=tenant.auth
    )
    assert moved.json()["email"] == "third@example.com"
    assert moved.json()["email_verified"] is False


async def test_shared_accounts_keep_their_email_and_password_from_any_one_org(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    shared = await tenant.add_user("shared@example.com")
    await client.post(other_tenant.path("/members"), json={"email": shared.email}, headers=other_tenant.auth)
    await accept_invitation(runtime, shared.id, other_tenant.slug)
    email = await client.patch(tenant.path(f"/users/{shared.id}"), json={"email": "x@example.com"}, headers=tenant.auth)
    assert email.status_code == 403
    password = await client.post(
        tenant.path(f"/users/{shared.id}/password"), json={"password": "taken over now"}, headers=tenant.auth
    )
    assert password.status_code == 403
    name = await client.patch(tenant.path(f"/users/{shared.id}"), json={"first_name": "Ok"}, headers=tenant.auth)
    assert name.status_code == 403
    own = await client.patch(tenant.path(f"/users/{shared.id}"), json={"attributes": {"a": 1}}, headers=tenant.auth)
    assert own.status_code == 200


async def test_admin_sets_password_and_can_require_change(client: httpx.AsyncClient, tenant: Tenant) -> None:
    invited = await tenant.add_user("later@example.com", password=None)
    response = await client.post(
        tenant.path(f"/users/{invited.id}/password"),
        json={"password": "set by the admin", "require_change": True},
        headers=tenant.auth,
    )
    assert response.status_code == 204
    user = (await client.get(tenant.path(f"/users/{invited.id}"), headers=tenant.auth)).json()
    assert user["status"] == "active"
    assert user["password_change_required"] is True
    fields = {"grant_type": "password", "username": invited.email, "password": "set by the admin"}
    refused = await client.post("/api/v1/auth/token", data=fields)
    assert refused.json()["error"] == "password_change_required"


async def test_admin_password_set_ends_the_users_sessions(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    await client.post(
        tenant.path(f"/users/{member.id}/password"), json={"password": "another password"}, headers=tenant.auth
    )
    assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 401
    assert (
        await client.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": member.email, "password": PASSWORD}
        )
    ).status_code == 400


async def test_user_ids_that_are_not_members_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for ref in ("0" * 24, "nope", "6b02820ea6f262672ab74e35"):
        assert (await client.get(tenant.path(f"/users/{ref}"), headers=tenant.auth)).status_code == 404


async def test_member_reads_but_does_not_write(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    assert (await client.get(tenant.path("/users"), headers=member.auth)).status_code == 200
    denied = await client.post(tenant.path("/users"), json={"email": "n@example.com"}, headers=member.auth)
    assert denied.status_code == 403
    assert denied.json()["detail"] == "requires the permission 'users:create' in this organization"
    assert (await client.post(tenant.path(f"/users/{tenant.owner.id}/disable"), headers=member.auth)).status_code == 403


async def test_platform_admin_acts_in_any_org(client: httpx.AsyncClient, root_token: str, tenant: Tenant) -> None:
    response = await client.post(
        tenant.path("/users"), json={"email": "by-root@example.com"}, headers=bearer(root_token)
    )
    assert response.status_code == 201


@pytest.mark.parametrize("q", ['"', 'a"b"c', "NEAR(a b)", "x* OR y", "(((", "a:b", "ab", "-AND-", "é^~"])
async def test_search_terms_are_literal_text_never_query_syntax(
    client: httpx.AsyncClient, tenant: Tenant, q: str
) -> None:
    await tenant.add_user("plain@example.com")
    response = await client.get(tenant.path("/users"), params={"q": q}, headers=tenant.auth)
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_search_finds_terms_with_quotes_and_operators_literally(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    odd = await tenant.add_user("o'brien+near@example.com", first_name='Say "Hi" OR')
    for q in ("o'brien", "+near@", '"hi" or', "SAY"):
        page = await client.get(tenant.path("/users"), params={"q": q}, headers=tenant.auth)
        assert [user["id"] for user in page.json()["items"]] == [odd.id], q


async def test_get_user_reads_the_caller_and_the_member_in_one_statement(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A user's own token: the caller's authorization and the member are one statement (``core.memberships.
    callers``); an API key authorizes apart, then reads the member. Both answer the same, and the rules hold
    on both paths: 404 for an id the organization does not hold, 403 before anything is looked up."""
    target = await tenant.add_user(roles=["viewer", "admin"], password=None)
    outsider = await other_tenant.add_user(password=None)
    reader = await tenant.add_user(roles=["viewer"])
    bare = await client.post(tenant.path("/roles"), json={"name": "bare", "permissions": []}, headers=tenant.auth)
    assert bare.status_code == 201, bare.text
    nobody = await tenant.add_user(roles=["bare"])
    key = await client.post(tenant.path("/api-keys"), json={"name": "reader", "roles": ["viewer"]}, headers=tenant.auth)
    key_auth = {"x-api-key": key.json()["key"]}
    with sent_statements(runtime.database) as sent:
        by_token = await client.get(tenant.path(f"/users/{target.id}"), headers=tenant.auth)
    statements = [statement for statement in sent if statement.lstrip().upper().startswith("SELECT")]
    assert by_token.status_code == 200, by_token.text
    assert len(statements) == 1
    assert by_token.json()["roles"] == ["admin", "viewer"]
    by_key = await client.get(tenant.path(f"/users/{target.id}"), headers=key_auth)
    assert by_key.json() == by_token.json()
    assert (
        await client.get(tenant.path(f"/users/{target.id}"), headers=bearer(reader.token))
    ).json() == by_token.json()
    for auth in (tenant.auth, key_auth, bearer(reader.token)):
        for foreign in (outsider.id, "no-such-user"):
            assert (await client.get(tenant.path(f"/users/{foreign}"), headers=auth)).status_code == 404
    for ref in (target.id, outsider.id, "no-such-user"):  # without users:read: 403 whatever the id names
        assert (await client.get(tenant.path(f"/users/{ref}"), headers=bearer(nobody.token))).status_code == 403
    deleted = await client.delete(tenant.path(f"/users/{target.id}"), headers=tenant.auth)
    assert deleted.status_code == 204
    assert (await client.get(tenant.path(f"/users/{target.id}"), headers=tenant.auth)).status_code == 404
