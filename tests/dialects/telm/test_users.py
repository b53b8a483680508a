"""telm's user administration: every operation, as the vendor's clients send it, and how each one fails."""

import httpx
import pytest

from tests.dialects.telm.conftest import Telm, authentication
from tests.factories import PASSWORD, Member, Tenant, bearer
from tests.mailbox import Mailbox

NEW_PASSWORD = "a brand new passphrase"


async def _role(client: httpx.AsyncClient, tenant: Tenant, name: str, permissions: list[str]) -> str:
    response = await client.post(
        tenant.path("/roles"), json={"name": name, "permissions": permissions}, headers=tenant.auth
    )
    assert response.status_code == 201, response.text
    return name


async def _member_with(telm: Telm, *permissions: str) -> Member:
    role = await _role(telm.client, telm.tenant, "limited", list(permissions))
    return await telm.tenant.add_user(roles=[role])


async def _native_roles(telm: Telm, email: str) -> list[str]:
    user = await telm.user(email)
    response = await telm.client.get(telm.tenant.path(f"/users/{user['id']}"), headers=telm.tenant.auth)
    roles: list[str] = response.json()["roles"]
    return roles


# List


async def test_list_answers_every_user_with_their_role_in_this_tenant(telm: Telm) -> None:
    assert (await telm.create_user("ada@example.com", role="admin", password=PASSWORD)).status_code == 200
    assert (await telm.create_user("bob@example.com", role="user")).status_code == 200
    response = await telm.client.get(telm.path("/users"), headers=telm.auth)
    assert response.status_code == 200, response.text
    users = {user["email"]: user for user in response.json()}
    assert {email: user["role"] for email, user in users.items()} == {
        "root@example.com": "admin",  # the platform admin who made the organization owns it too
        telm.tenant.owner.email: "admin",
        "ada@example.com": "admin",
        "bob@example.com": "user",
    }
    ada = users["ada@example.com"]
    assert set(ada) == {"email", "first_name", "id", "last_name", "role"}
    assert (ada["first_name"], ada["last_name"]) == ("Test", "User")


async def test_the_standard_authorization_header_works_too(telm: Telm) -> None:
    response = await telm.client.get(telm.path("/users"), headers=bearer(telm.tenant.owner.token))
    assert response.status_code == 200


async def test_the_tenant_may_be_named_by_id(telm: Telm) -> None:
    response = await telm.client.get(telm.path("/users", tenant=telm.tenant.id), headers=telm.auth)
    assert response.status_code == 200
    assert len(response.json()) == 2


async def test_without_credentials_the_answer_is_401(telm: Telm) -> None:
    response = await telm.client.get(telm.path("/users"))
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


async def test_a_bad_token_or_scheme_is_401(telm: Telm) -> None:
    for header in ("Bearer not-a-token", f"Basic {telm.tenant.owner.token}"):
        response = await telm.client.get(telm.path("/users"), headers={"Authentication": header})
        assert response.status_code == 401, header
        assert "message" in response.json()


async def test_an_unknown_tenant_is_404(telm: Telm) -> None:
    response = await telm.client.get(telm.path("/users", tenant="nowhere"), headers=telm.auth)
    assert (response.status_code, response.json()) == (404, {"message": "tenant not found"})


async def test_another_tenants_member_is_answered_404(telm: Telm, other_tenant: Tenant) -> None:
    response = await telm.client.get(telm.path("/users"), headers=authentication(other_tenant.owner.token))
    assert (response.status_code, response.json()) == (404, {"message": "tenant not found"})


async def test_a_member_without_users_read_is_403(telm: Telm) -> None:
    member = await _member_with(telm, "orgs:read")
    response = await telm.client.get(telm.path("/users"), headers=authentication(member.token))
    assert response.status_code == 403
    assert "users:read" in response.json()["message"]


# Get by email


async def test_a_user_is_found_by_email_in_any_letter_case(telm: Telm) -> None:
    response = await telm.client.get(telm.path("/users/OWNER-ACME@Example.COM"), headers=telm.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "email": telm.tenant.owner.email,
        "first_name": "Owner",
        "id": telm.tenant.owner.id,
        "last_name": "",
        "role": "admin",
    }


async def test_get_of_an_unknown_or_foreign_user_is_404(telm: Telm, other_tenant: Tenant) -> None:
    for email in ("nobody@example.com", other_tenant.owner.email):
        response = await telm.client.get(telm.path(f"/users/{email}"), headers=telm.auth)
        assert (response.status_code, response.json()) == (404, {"message": "user not found"}), email


# Create


async def test_create_with_a_password_answers_the_vendors_message_and_the_user_can_sign_in(telm: Telm) -> None:
    response = await telm.create_user("ada@example.com", role="admin", password=PASSWORD)
    assert (response.status_code, response.json()) == (200, {"message": "User was added successfully"})
    assert (await telm.sign_in("ada@example.com", PASSWORD)).status_code == 200
    assert await _native_roles(telm, "ada@example.com") == ["admin"]


async def test_role_user_is_granted_as_member(telm: Telm) -> None:
    await telm.create_user("bob@example.com", role="user", password=PASSWORD)
    assert await _native_roles(telm, "bob@example.com") == ["member"]
    assert (await telm.user("bob@example.com"))["role"] == "user"


async def test_create_without_a_password_mails_an_activation_link(telm: Telm, mailbox: Mailbox) -> None:
    response = await telm.create_user("new@example.com", first_name="Nina")
    assert response.status_code == 200
    mail = await mailbox.one_for("new@example.com")
    assert mail.subject == "Acme invited you: set your password"
    assert mail.link.startswith("http://testserver/ui/activate?token=")
    assert (await telm.sign_in("new@example.com", PASSWORD)).status_code == 401


async def test_a_user_created_with_a_password_gets_no_mail(telm: Telm, mailbox: Mailbox) -> None:
    await telm.create_user("quiet@example.com", password=PASSWORD)
    assert await mailbox.deliver() == []


async def test_a_duplicate_email_in_any_letter_case_is_409(telm: Telm) -> None:
    await telm.create_user("ada@example.com")
    response = await telm.create_user("ADA@example.com")
    assert response.status_code == 409
    assert response.json() == {"message": "an account with this email already exists"}


async def test_an_email_of_another_tenants_account_invites_it_with_the_same_answer(
    telm: Telm, other_tenant: Tenant
) -> None:
    response = await telm.create_user(other_tenant.owner.email)
    assert (response.status_code, response.json()) == (200, {"message": "User was added successfully"})
    invited = await telm.user(other_tenant.owner.email)
    assert (invited["first_name"], invited["last_name"]) == ("", "")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
    ],
)
async def test_invalid_parameters_are_422(telm: Telm, params: dict[str, str], field: str) -> None:
    email = params.pop("email", "ada@example.com")
    response = await telm.create_user(email, **params)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert (await telm.client.get(telm.path("/users/ada@example.com"), headers=telm.auth)).status_code == 404


async def test_missing_required_parameters_are_422(telm: Telm) -> None:
    response = await telm.client.post(telm.path("/users"), params={"email": "ada@example.com"}, headers=telm.auth)
    assert response.status_code == 422
    message = response.json()["message"]
    assert all(name in message for name in ("first_name", "last_name", "role"))


async def test_a_member_may_not_create_users(telm: Telm) -> None:
    member = await telm.tenant.add_user()
    response = await telm.create_user("ada@example.com", headers=authentication(member.token))
    assert response.status_code == 403


# Update (singular "user" in the path)


async def test_update_changes_names_and_role(telm: Telm) -> None:
    await telm.create_user("bob@example.com", role="user")
    response = await telm.client.put(
        telm.path("/user/Bob@Example.com"),
        params={"first_name": "Robert", "last_name": "Tables", "role": "admin"},
        headers=telm.auth,
    )
    assert (response.status_code, response.json()) == (200, {"message": "User was updated successfully"})
    bob = await telm.user("bob@example.com")
    assert (bob["first_name"], bob["last_name"], bob["role"]) == ("Robert", "Tables", "admin")
    assert await _native_roles(telm, "bob@example.com") == ["admin"]


async def test_an_unchanged_role_keeps_the_roles_held(telm: Telm) -> None:
    params = {"first_name": "Still", "last_name": "Owner", "role": "admin"}
    response = await telm.client.put(telm.path(f"/user/{telm.tenant.owner.email}"), params=params, headers=telm.auth)
    assert response.status_code == 200, response.text
    assert await _native_roles(telm, telm.tenant.owner.email) == ["owner"]


async def test_update_without_role_is_422(telm: Telm) -> None:
    await telm.create_user("bob@example.com")
    params = {"first_name": "Robert", "last_name": "Tables"}
    response = await telm.client.put(telm.path("/user/bob@example.com"), params=params, headers=telm.auth)
    assert response.status_code == 422
    assert "role" in response.json()["message"]


async def test_update_of_an_unknown_user_is_404(telm: Telm) -> None:
    params = {"first_name": "A", "last_name": "B", "role": "user"}
    response = await telm.client.put(telm.path("/user/nobody@example.com"), params=params, headers=telm.auth)
    assert (response.status_code, response.json()) == (404, {"message": "user not found"})


async def test_changing_the_role_needs_users_roles(telm: Telm) -> None:
    await telm.create_user("bob@example.com")
    editor = await _member_with(telm, "orgs:read", "roles:read", "users:read", "users:update")
    same = {"first_name": "Robert", "last_name": "Tables", "role": "user"}
    path = telm.path("/user/bob@example.com")
    assert (await telm.client.put(path, params=same, headers=authentication(editor.token))).status_code == 200
    promoted = await telm.client.put(path, params={**same, "role": "admin"}, headers=authentication(editor.token))
    assert promoted.status_code == 403
    assert (await telm.user("bob@example.com"))["role"] == "user"


async def test_the_plural_path_does_not_update(telm: Telm) -> None:
    params = {"first_name": "A", "last_name": "B", "role": "admin"}
    response = await telm.client.put(telm.path(f"/users/{telm.tenant.owner.email}"), params=params, headers=telm.auth)
    assert response.status_code == 405
    assert "message" in response.json()


# Delete


async def test_delete_removes_the_user_and_the_email_is_free_again(telm: Telm) -> None:
    await telm.create_user("bob@example.com")
    response = await telm.client.delete(telm.path("/users/BOB@example.com"), headers=telm.auth)
    assert (response.status_code, response.json()) == (200, {"message": "User was deleted successfully"})
    assert (await telm.client.get(telm.path("/users/bob@example.com"), headers=telm.auth)).status_code == 404
    assert (await telm.create_user("bob@example.com")).status_code == 200


async def test_delete_failures(telm: Telm, root_token: str) -> None:
    member = await telm.tenant.add_user()
    unknown = await telm.client.delete(telm.path("/users/nobody@example.com"), headers=telm.auth)
    assert unknown.status_code == 404
    refused = await telm.client.delete(telm.path(f"/users/{member.email}"), headers=authentication(member.token))
    assert refused.status_code == 403
    owner = await telm.client.delete(telm.path(f"/users/{telm.tenant.owner.email}"), headers=authentication(root_token))
    assert owner.status_code == 200
    last_owner = await telm.client.delete(telm.path("/users/root@example.com"), headers=authentication(root_token))
    assert last_owner.status_code == 409
    assert "last owner" in last_owner.json()["message"]


# Assign an existing user


async def test_assign_adds_an_existing_account_with_its_role_here(telm: Telm, other_tenant: Tenant) -> None:
    guest = await other_tenant.add_user("guest@example.com")
    response = await telm.client.put(
        telm.path("/users/Guest@example.com/assign"), json={"role": "admin"}, headers=telm.auth
    )
    assert (response.status_code, response.json()) == (200, {"message": "User was assigned successfully"})
    assert (await telm.user(guest.email))["role"] == "admin"
    elsewhere = await telm.client.get(
        f"/compat/telm/api/auth/auth/{other_tenant.slug}/users/{guest.email}",
        headers=authentication(other_tenant.owner.token),
    )
    assert elsewhere.json()["role"] == "user"


async def test_assign_takes_the_role_from_the_query_when_no_body_comes(telm: Telm, other_tenant: Tenant) -> None:
    guest = await other_tenant.add_user("guest@example.com")
    response = await telm.client.put(
        telm.path(f"/users/{guest.email}/assign"), params={"role": "user"}, headers=telm.auth
    )
    assert response.status_code == 200, response.text
    assert (await telm.user(guest.email))["role"] == "user"


async def test_assign_failures(telm: Telm, other_tenant: Tenant) -> None:
    guest = await other_tenant.add_user("guest@example.com")
    cases = [
        (telm.tenant.owner.email, {"role": "user"}, 409),
        ("not an email", {"role": "user"}, 404),
        (guest.email, {"role": "superuser"}, 422),
        (guest.email, {}, 422),
    ]
    for email, body, status in cases:
        response = await telm.client.put(telm.path(f"/users/{email}/assign"), json=body, headers=telm.auth)
        assert response.status_code == status, (email, body, response.text)
        assert set(response.json()) == {"message"}
    member = await telm.tenant.add_user()
    refused = await telm.client.put(
        telm.path(f"/users/{guest.email}/assign"), json={"role": "user"}, headers=authentication(member.token)
    )
    assert refused.status_code == 403
    # An address without an account is invited as one with: the answer tells nothing.
    unknown = await telm.client.put(
        telm.path("/users/nobody@example.com/assign"), json={"role": "user"}, headers=telm.auth
    )
    assert (unknown.status_code, unknown.json()) == (200, {"message": "User was assigned successfully"})


# Change password


async def _change(telm: Telm, email: str, old: str, new: str, token: str) -> httpx.Response:
    return await telm.client.put(
        telm.path(f"/user/{email}/password"),
        params={"old-password": old, "new-password": new},
        headers=authentication(token),
    )


async def test_a_user_changes_their_own_password(telm: Telm) -> None:
    member = await telm.tenant.add_user("bob@example.com")
    response = await _change(telm, "Bob@example.com", PASSWORD, NEW_PASSWORD, member.token)
    assert (response.status_code, response.json()) == (200, {"message": "User was updated successfully"})
    assert (await telm.sign_in(member.email, NEW_PASSWORD)).status_code == 200
    assert (await telm.sign_in(member.email, PASSWORD)).status_code == 401
    again = await telm.client.get(telm.path("/users"), headers=authentication(member.token))
    assert again.status_code == 401  # every session ended


async def test_an_admin_changes_another_users_password_knowing_the_old_one(telm: Telm) -> None:
    member = await telm.tenant.add_user("bob@example.com")
    response = await _change(telm, member.email, PASSWORD, NEW_PASSWORD, telm.tenant.owner.token)
    assert response.status_code == 200, response.text
    assert (await telm.sign_in(member.email, NEW_PASSWORD)).status_code == 200


async def test_change_password_failures(telm: Telm) -> None:
    member = await telm.tenant.add_user("bob@example.com")
    other = await telm.tenant.add_user("carol@example.com")
    wrong_old = await _change(telm, member.email, "not my password", NEW_PASSWORD, member.token)
    assert wrong_old.status_code == 422
    assert "old-password" in wrong_old.json()["message"]
    weak = await _change(telm, member.email, PASSWORD, "short", member.token)
    assert weak.status_code == 422
    assert "new-password" in weak.json()["message"]
    missing = await telm.client.put(
        telm.path(f"/user/{member.email}/password"),
        params={"old-password": PASSWORD},
        headers=authentication(member.token),
    )
    assert missing.status_code == 422
    assert "new-password" in missing.json()["message"]
    not_theirs = await _change(telm, other.email, PASSWORD, NEW_PASSWORD, member.token)
    assert not_theirs.status_code == 403
    unknown = await _change(telm, "nobody@example.com", PASSWORD, NEW_PASSWORD, telm.tenant.owner.token)
    assert unknown.status_code == 404
    assert (await telm.sign_in(member.email, PASSWORD)).status_code == 200


# Reset password by email


async def test_reset_mails_a_link_to_the_user(telm: Telm, mailbox: Mailbox) -> None:
    member = await telm.tenant.add_user("bob@example.com")
    response = await telm.client.delete(telm.path("/user/BOB@example.com/password"), headers=telm.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "An email to reset the password was sent"}
    mail = await mailbox.one_for(member.email)
    assert mail.subject == "Reset your Acme password"
    assert mail.link.startswith("http://testserver/ui/reset-password?token=")
    assert (await telm.sign_in(member.email, PASSWORD)).status_code == 200  # the old one works until then


async def test_resets_to_one_user_stop_after_the_account_s_share(telm: Telm, mailbox: Mailbox) -> None:
    member = await telm.tenant.add_user("bob@example.com")
    answers = [
        await telm.client.delete(telm.path("/user/bob@example.com/password"), headers=telm.auth) for _ in range(6)
    ]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert answers[-1].json() == {"message": "too many emails of this kind were sent to this account; try again later"}
    assert int(answers[-1].headers["retry-after"]) > 0
    assert len([mail for mail in await mailbox.deliver() if mail.to == member.email]) == 5


async def test_reset_failures(telm: Telm, mailbox: Mailbox) -> None:
    member = await telm.tenant.add_user("bob@example.com")
    unknown = await telm.client.delete(telm.path("/user/nobody@example.com/password"), headers=telm.auth)
    assert unknown.status_code == 404
    refused = await telm.client.delete(
        telm.path(f"/user/{telm.tenant.owner.email}/password"), headers=authentication(member.token)
    )
    assert refused.status_code == 403
    assert await mailbox.deliver() == []
