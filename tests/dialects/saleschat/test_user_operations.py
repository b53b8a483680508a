"""Reset password, magic link, delete, disable and enable, as the vendor documents them."""

import httpx
import pytest

from tenantry.runtime import Runtime
from tests.dialects.saleschat.helpers import (
    MISSING_ID,
    NEW_PASSWORD,
    OPERATIONS,
    assert_error,
    call,
    native_user,
    users_path,
)
from tests.factories import PASSWORD, Tenant, accept_invitation, bearer, login
from tests.mailbox import Mailbox

TOKEN = "/api/v1/auth/token"


async def _password_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "password", "username": email, "password": password})


async def test_reset_password_sets_it_ends_sessions_and_forces_a_change(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    user = await tenant.add_user("reset@example.com")
    response = await call(client, "reset", tenant.id, user.id, tenant.auth)
    assert (response.status_code, response.content) == (204, b"")
    assert (await native_user(client, tenant, user.id))["password_change_required"] is True
    assert (await client.get("/api/v1/me", headers=user.auth)).status_code == 401
    assert (await _password_login(client, user.email, PASSWORD)).json()["error"] == "invalid_grant"
    assert (await _password_login(client, user.email, NEW_PASSWORD)).json()["error"] == "password_change_required"


async def test_reset_password_forces_a_change_even_when_asked_not_to(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user()
    body = {"password": NEW_PASSWORD, "ask_user_to_update_password_on_login": False}
    response = await client.post(users_path(tenant.id, f"/{user.id}/password/reset"), json=body, headers=tenant.auth)
    assert response.status_code == 204
    assert (await native_user(client, tenant, user.id))["password_change_required"] is True


@pytest.mark.parametrize(("body", "field"), [({}, "password"), ({"password": "password"}, "password")])
async def test_reset_password_without_an_acceptable_password_is_4220001(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, str], field: str
) -> None:
    user = await tenant.add_user()
    response = await client.post(users_path(tenant.id, f"/{user.id}/password/reset"), json=body, headers=tenant.auth)
    assert set(assert_error(response, 422, 4220001)) == {field}


async def test_magic_link_is_a_url_that_signs_the_user_in_and_no_mail_is_sent(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    user = await tenant.add_user("magic@example.com")
    response = await call(client, "magiclink", tenant.id, user.id, tenant.auth)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"url"}
    assert response.json()["url"].startswith("http://testserver/ui/magic?token=")
    assert response.headers["cache-control"] == "no-store"
    assert await mailbox.deliver() == []
    landing = await client.get(response.json()["url"])
    assert landing.status_code == 200
    assert "magic@example.com" in landing.text


async def test_magic_link_for_a_deleted_user_is_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user()
    assert (await call(client, "delete", tenant.id, user.id, tenant.auth)).status_code == 204
    response = await call(client, "magiclink", tenant.id, user.id, tenant.auth)
    assert_error(response, 404, 4040001, "UserId does not exist for this org or user has been deleted")


async def test_magic_link_for_a_disabled_user_is_4030003(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user()
    assert (await call(client, "disable", tenant.id, user.id, tenant.auth)).status_code == 204
    assert_error(await call(client, "magiclink", tenant.id, user.id, tenant.auth), 403, 4030003)


async def test_delete_removes_the_user_and_their_account(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user("gone@example.com")
    response = await call(client, "delete", tenant.id, user.id, tenant.auth)
    assert (response.status_code, response.content) == (204, b"")
    assert (await client.get(tenant.path(f"/users/{user.id}"), headers=tenant.auth)).status_code == 404
    assert (await client.get("/api/v1/me", headers=user.auth)).status_code == 401
    again = await call(client, "delete", tenant.id, user.id, tenant.auth)
    assert_error(again, 404, 4040001, "User Id does not exist")


async def test_delete_keeps_an_account_that_belongs_to_another_org(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    user = await tenant.add_user("shared@example.com")
    added = await client.post(
        other_tenant.path("/members"), json={"email": user.email}, headers=bearer(other_tenant.owner.token)
    )
    assert added.status_code == 201, added.text
    await accept_invitation(runtime, user.id, other_tenant.id)  # an invitation alone keeps no account alive
    assert (await call(client, "delete", tenant.id, user.id, tenant.auth)).status_code == 204
    assert (await login(client, user.email))["access_token"]


async def test_disabling_yourself_is_4030003(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_error(await call(client, "disable", tenant.id, tenant.owner.id, tenant.auth), 403, 4030003)
    assert (await native_user(client, tenant, tenant.owner.id))["status"] == "active"


async def test_the_last_owner_cannot_be_deleted_or_disabled(
    client: httpx.AsyncClient, tenant: Tenant, root_token: str
) -> None:
    root = bearer(root_token)
    assert (await call(client, "delete", tenant.id, tenant.owner.id, root)).status_code == 204
    root_id = (await client.get("/api/v1/me", headers=root)).json()["id"]  # the organization's creator, an owner
    for operation in ("delete", "disable"):
        assert_error(await call(client, operation, tenant.id, root_id, root), 403, 4030003)


async def test_disable_then_enable(client: httpx.AsyncClient, tenant: Tenant) -> None:
    user = await tenant.add_user("toggle@example.com")
    disabled = await call(client, "disable", tenant.id, user.id, tenant.auth)
    assert (disabled.status_code, disabled.content) == (204, b"")
    assert (await native_user(client, tenant, user.id))["status"] == "disabled"
    assert (await client.get("/api/v1/me", headers=user.auth)).status_code == 401
    assert (await _password_login(client, user.email, PASSWORD)).status_code == 400
    enabled = await call(client, "enable", tenant.id, user.id, tenant.auth)
    assert (enabled.status_code, enabled.content) == (204, b"")
    assert (await native_user(client, tenant, user.id))["status"] == "active"
    assert (await login(client, user.email))["access_token"]


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_unknown_or_foreign_users_are_404_with_the_vendors_text(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, operation: str
) -> None:
    foreigner = await other_tenant.add_user()
    text = OPERATIONS[operation][3]
    for user_id in (MISSING_ID, foreigner.id, "not-an-id", MISSING_ID.upper()):
        response = await call(client, operation, tenant.id, user_id, tenant.auth)
        assert_error(response, 404, 4040001, text)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_unknown_or_foreign_orgs_are_404_with_the_vendors_text(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, operation: str
) -> None:
    victim = await other_tenant.add_user()
    text = OPERATIONS[operation][3]
    for org in (MISSING_ID, other_tenant.id, other_tenant.slug, "o" * 101):
        assert_error(await call(client, operation, org, victim.id, tenant.auth), 404, 4040002, text)
    assert (await native_user(client, other_tenant, victim.id))["status"] == "active"


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("headers", [{}, bearer("not-a-token")])
async def test_without_valid_credentials_it_is_4010001(
    client: httpx.AsyncClient, tenant: Tenant, operation: str, headers: dict[str, str]
) -> None:
    user = await tenant.add_user()
    assert_error(await call(client, operation, tenant.id, user.id, headers), 401, 4010001)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_member_is_4030001(client: httpx.AsyncClient, tenant: Tenant, operation: str) -> None:
    member = await tenant.add_user(roles=["member"])
    user = await tenant.add_user()
    assert_error(await call(client, operation, tenant.id, user.id, member.auth), 403, 4030001)
    assert (await native_user(client, tenant, user.id))["status"] == "active"


async def test_unknown_paths_and_methods_answer_in_the_vendors_body(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_error(await client.get(users_path(tenant.id, "/x/unknown"), headers=tenant.auth), 404, 4040003)
    assert_error(await client.delete(users_path(tenant.id), headers=tenant.auth), 405, 4050001)
