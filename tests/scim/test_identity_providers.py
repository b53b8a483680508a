"""The request sequences Okta and Microsoft Entra ID send, as their documentation shows them.

Okta: developer.okta.com "SCIM 2.0 Protocol Reference"; Entra ID: learn.microsoft.com "Tutorial - Develop a
SCIM endpoint ... SCIM protocol requests and responses". Bodies are theirs; only ids come from our answers.
"""

from tests.factories import Tenant
from tests.scim.conftest import GROUP, SCIM_JSON, USER, Scim

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


async def test_okta_provisions_updates_deactivates_a_user_and_pushes_a_group(scim: Scim, tenant: Tenant) -> None:
    lookup = await scim.get("/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100")
    assert lookup.status_code == 200
    assert lookup.headers["content-type"].startswith(SCIM_JSON)
    assert lookup.json()["totalResults"] == 0
    created = await scim.post(
        "/Users",
        {
            "schemas": [USER],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["location"] == user["meta"]["location"]
    assert (user["userName"], user["externalId"], user["active"]) == (
        "test.user@okta.local",
        "00ujl29u0le5T6Aj10h7",
        True,
    )
    assert "password" not in user
    again = await scim.post("/Users", {"schemas": [USER], "userName": "Test.User@okta.local"})
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"

    fetched = (await scim.get(f"/Users/{user['id']}")).json()
    fetched["name"]["middleName"] = "Excited"
    fetched["name"]["givenName"] = "Another"
    replaced = await scim.put(f"/Users/{user['id']}", fetched)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == {"givenName": "Another", "middleName": "Excited", "familyName": "User"}
    native = await scim.client.get(tenant.path(f"/users/{user['id']}"), headers=tenant.auth)
    assert native.json()["first_name"] == "Another"

    deactivated = await scim.patch(f"/Users/{user['id']}", [{"op": "replace", "value": {"active": False}}])
    assert deactivated.status_code == 200
    assert deactivated.json()["active"] is False
    assert (await scim.client.get(tenant.path(f"/users/{user['id']}"), headers=tenant.auth)).json()[
        "status"
    ] == "disabled"

    pushed = await scim.post("/Groups", {"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []})
    assert pushed.status_code == 201, pushed.text
    group = pushed.json()
    found = await scim.get("/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100")
    assert [item["id"] for item in found.json()["Resources"]] == [group["id"]]
    renamed = await scim.patch(
        f"/Groups/{group['id']}", [{"op": "replace", "value": {"id": group["id"], "displayName": "Test SCIMv20"}}]
    )
    assert renamed.status_code == 204, renamed.text
    membership = await scim.patch(
        f"/Groups/{group['id']}",
        [
            {"op": "remove", "path": 'members[value eq "89bb1940b9054575aaaaaaaa"]'},
            {"op": "add", "path": "members", "value": [{"value": user["id"], "display": "test.user@okta.local"}]},
        ],
    )
    assert membership.status_code == 204, membership.text
    shown = (await scim.get(f"/Groups/{group['id']}")).json()
    assert shown["displayName"] == "Test SCIMv20"
    assert [member["value"] for member in shown["members"]] == [user["id"]]
    roles = (await scim.client.get(tenant.path(f"/users/{user['id']}"), headers=tenant.auth)).json()["roles"]
    assert "Test SCIMv20" in roles
    full_push = await scim.patch(f"/Groups/{group['id']}", [{"op": "replace", "path": "members", "value": []}])
    assert full_push.status_code == 204
    assert "members" not in (await scim.get(f"/Groups/{group['id']}")).json()
    assert (await scim.delete(f"/Groups/{group['id']}")).status_code == 204
    assert (await scim.get(f"/Groups/{group['id']}")).status_code == 404


async def test_entra_id_provisions_updates_disables_deletes_a_user_and_pushes_a_group(
    scim: Scim, tenant: Tenant
) -> None:
    created = await scim.post(
        "/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa@testuser.com",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "Test_User_11bb11bb@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    query = await scim.get('/Users?filter=userName eq "Test_User_00aa00aa@testuser.com"')
    assert [item["id"] for item in query.json()["Resources"]] == [user["id"]]
    by_mail = await scim.get('/Users?filter=emails[type eq "work"].value eq "test_user_11bb11bb@testuser.com"')
    assert by_mail.json()["totalResults"] == 1
    assert (await scim.get('/Users?filter=userName eq "non-existent user"')).json()["totalResults"] == 0

    multi = await scim.patch(
        f"/Users/{user['id']}",
        [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        ],
    )
    assert multi.status_code == 200, multi.text
    assert multi.json()["emails"] == [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": True}]
    assert multi.json()["name"]["familyName"] == "updatedFamilyName"
    single = await scim.patch(
        f"/Users/{user['id']}", [{"op": "Replace", "path": "userName", "value": "5b50642d@testuser.com"}]
    )
    assert single.json()["userName"] == "5b50642d@testuser.com"
    manager = await scim.patch(
        f"/Users/{user['id']}", [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": tenant.owner.id}]
    )
    assert manager.json()[ENTERPRISE]["manager"] == {"value": tenant.owner.id}
    disabled = await scim.patch(f"/Users/{user['id']}", [{"op": "Replace", "path": "active", "value": False}])
    assert disabled.json()["active"] is False
    inactive = (await scim.get("/Users?filter=active eq false")).json()
    assert inactive["totalResults"] == 1, inactive

    group = await scim.post(
        "/Groups",
        {
            "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    assert group.json()["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    fetched = await scim.get(f"/Groups/{group_id}?excludedAttributes=members")
    assert "members" not in fetched.json()
    listed = await scim.get('/Groups?excludedAttributes=members&filter=displayName eq "displayName"')
    assert [item["id"] for item in listed.json()["Resources"]] == [group_id]
    renamed = await scim.patch(
        f"/Groups/{group_id}", [{"op": "Replace", "path": "displayName", "value": "1879db59updatedDisplayName"}]
    )
    assert renamed.status_code == 204
    added = await scim.patch(
        f"/Groups/{group_id}", [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": user["id"]}]}]
    )
    assert added.status_code == 204, added.text
    is_member = await scim.get(
        f'/Groups?excludedAttributes=members&filter=id eq "{group_id}" and members eq "{user["id"]}"'
    )
    assert is_member.json()["totalResults"] == 1
    removed = await scim.patch(
        f"/Groups/{group_id}", [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": user["id"]}]}]
    )
    assert removed.status_code == 204, removed.text
    assert (await scim.get(f'/Groups?filter=members eq "{user["id"]}"')).json()["totalResults"] == 1  # member role
    assert (await scim.delete(f"/Groups/{group_id}")).status_code == 204

    assert (await scim.delete(f"/Users/{user['id']}")).status_code == 204
    assert (await scim.get(f"/Users/{user['id']}")).status_code == 404
    native = await scim.client.get(tenant.path(f"/users/{user['id']}"), headers=tenant.auth)
    assert native.status_code == 404
