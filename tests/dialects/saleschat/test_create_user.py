"""POST /v1/org/{orgId}/user: create a user and add it to the org, as the vendor documents it."""

import httpx
import pytest

from tests.dialects.saleschat.helpers import MISSING_ID, assert_error, native_user, new_user, users_path
from tests.factories import Tenant, bearer, login
from tests.mailbox import Mailbox


async def test_created_user_is_a_confirmed_member_and_no_mail_is_sent(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    response = await client.post(users_path(tenant.id), json=new_user(), headers=tenant.auth)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"user_id"}
    user = await native_user(client, tenant, response.json()["user_id"])
    assert (user["email"], user["first_name"], user["last_name"]) == ("ada@example.com", "Ada", "Lovelace")
    assert user["roles"] == ["member"]
    assert user["status"] == "active"
    assert user["email_verified"] is True
    assert user["password_change_required"] is False
    assert await mailbox.deliver() == []
    assert (await login(client, "ada@example.com", new_user()["password"]))["access_token"]


async def test_org_may_be_named_by_slug(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(users_path(tenant.slug), json=new_user(), headers=tenant.auth)
    assert response.status_code == 200, response.text


async def test_asking_for_a_password_update_makes_the_next_login_change_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = new_user(ask_user_to_update_password_on_login=True)
    response = await client.post(users_path(tenant.id), json=body, headers=tenant.auth)
    assert response.status_code == 200, response.text
    assert (await native_user(client, tenant, response.json()["user_id"]))["password_change_required"] is True
    refused = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": body["email"], "password": body["password"]}
    )
    assert refused.json()["error"] == "password_change_required"


@pytest.mark.parametrize("flag", [False, None])
async def test_the_password_update_flag_defaults_to_false(
    client: httpx.AsyncClient, tenant: Tenant, flag: bool | None
) -> None:
    body = new_user(ask_user_to_update_password_on_login=flag)
    response = await client.post(users_path(tenant.id), json=body, headers=tenant.auth)
    assert (await native_user(client, tenant, response.json()["user_id"]))["password_change_required"] is False


async def test_an_email_already_taken_is_4090001_in_any_letter_case(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.post(users_path(tenant.id), json=new_user(), headers=tenant.auth)).status_code == 200
    again = await client.post(users_path(tenant.id), json=new_user("ADA@Example.com"), headers=tenant.auth)
    assert_error(again, 409, 4090001)
    assert again.json()["error_message"] == "UQ_CONSTRAINT_FAILED"


async def test_missing_fields_are_4220001_naming_each_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(users_path(tenant.id), json={}, headers=tenant.auth)
    payload = assert_error(response, 422, 4220001)
    assert set(payload) == {"email", "password", "first_name", "last_name"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "a" * 308 + "@example.com"),  # 320 characters: the vendor allows 319
        ("email", "not an email"),
        ("password", "short12"),
        ("password", "p" * 65),
        ("first_name", "F" * 41),
        ("last_name", "L" * 41),
        ("last_name", None),
        ("ask_user_to_update_password_on_login", "perhaps"),
    ],
)
async def test_invalid_values_are_4220001_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, field: str, value: object
) -> None:
    response = await client.post(users_path(tenant.id), json=new_user(**{field: value}), headers=tenant.auth)
    assert set(assert_error(response, 422, 4220001)) == {field}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "a" * 308 + "@example.com", "String should have at most 319 characters"),
        ("password", "short", "String should have at least 8 characters"),
        ("password", "p" * 65, "String should have at most 64 characters"),
        ("first_name", "F" * 41, "String should have at most 40 characters"),
        ("last_name", "L" * 41, "String should have at most 40 characters"),
    ],
)
async def test_a_length_error_counts_characters(
    client: httpx.AsyncClient, tenant: Tenant, field: str, value: str, message: str
) -> None:
    """The vendor's limits are checked on the text as sent, as the core's own are: the message says characters."""
    response = await client.post(users_path(tenant.id), json=new_user(**{field: value}), headers=tenant.auth)
    assert assert_error(response, 422, 4220001) == {field: message}


async def test_the_vendors_limits_are_accepted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    longest_email = "e" * 64 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 56 + ".com"  # 253: RFC 5321 allows 254
    body = new_user(longest_email, password="p" * 8 + "Q" * 56, first_name="F" * 40, last_name="")
    response = await client.post(users_path(tenant.id), json=body, headers=tenant.auth)
    assert response.status_code == 200, response.text


async def test_a_weak_password_is_4220001(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(users_path(tenant.id), json=new_user(password="password"), headers=tenant.auth)
    assert set(assert_error(response, 422, 4220001)) == {"password"}


async def test_a_body_that_is_not_json_is_4220001(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {**tenant.auth, "Content-Type": "application/json"}
    response = await client.post(users_path(tenant.id), content=b"{not json", headers=headers)
    assert set(assert_error(response, 422, 4220001)) == {"body"}


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(users_path(tenant.id), json=new_user(role="ADMIN"), headers=tenant.auth)
    assert response.status_code == 200, response.text
    assert (await native_user(client, tenant, response.json()["user_id"]))["roles"] == ["member"]


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token")])
async def test_without_valid_credentials_it_is_4010001(
    client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str]
) -> None:
    response = await client.post(users_path(tenant.id), json=new_user(), headers=headers)
    assert_error(response, 401, 4010001)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_member_is_4030001(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user(roles=["member"])
    response = await client.post(users_path(tenant.id), json=new_user(), headers=member.auth)
    assert_error(response, 403, 4030001)


async def test_an_org_unknown_or_foreign_is_4030002_before_the_body_is_read(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    for org in (MISSING_ID, other_tenant.id, "x" * 101):
        response = await client.post(users_path(org), json={}, headers=tenant.auth)
        assert_error(response, 403, 4030002)
