"""scim2-tester against a live server, and a round trip through scim2-client.

scim2-tester fills every attribute with random values; Tenantry's ``userName`` is the account's email
(the mapping the issue asks for), so the tester's random UUIDs are replaced by random email addresses
for ``userName``. Its random ``password`` (a UUID) could hold a four-character piece of the random names
and addresses beside it, which Tenantry's password policy refuses (``block_context``): about one run in four
failed that way. Passwords are drawn from letters no UUID holds instead. Every other value is the tester's
own. See docs/scim.md, "Conformance".
"""

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import PatchOp, PatchOperation, SearchRequest
from scim2_tester import Status, check_server, filling
from scim2_tester.checkers import patch_add, patch_replace

from tenantry.scim.models import EnterpriseUser, Group, User, UserResource
from tenantry.settings import Settings
from tests.factories import Tenant
from tests.live_server import serve
from tests.scim.conftest import provisioning_key

_NOT_HEX = "ghijklmnopqrstuvwxyz"
"""Letters no UUID holds: a password of them shares no piece with the random names and addresses sent beside it."""


@pytest.fixture
def email_user_names(monkeypatch: pytest.MonkeyPatch) -> None:
    original = filling.generate_random_value

    def generate(context: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        attribute = str(path).rpartition(":")[2]
        if attribute == "userName":
            return f"{uuid.uuid4().hex}@example.com"
        if attribute == "password":
            return "".join(secrets.choice(_NOT_HEX) for _ in range(24))
        return original(context, path, *args, **kwargs)

    for module in (filling, patch_add, patch_replace):
        monkeypatch.setattr(module, "generate_random_value", generate)


@pytest.fixture
async def live_scim(settings: Settings, tenant: Tenant) -> Iterator[tuple[str, str]]:
    key = await provisioning_key(tenant)
    with serve(settings) as url:
        yield f"{url}/scim/v2/{tenant.slug}", key


def _client(base: str, key: str) -> SyncSCIMClient:
    return SyncSCIMClient(httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30))


# The one check Tenantry fails on purpose, explained in docs/scim.md: a member is always active or not,
# so PATCH cannot remove `active` (400 mutability; replace it with false to deactivate).
EXPLAINED = {("User", "check_remove_attribute", "active")}


@pytest.mark.usefixtures("email_user_names")
def test_every_scim2_tester_check_passes_but_the_explained_ones(live_scim: tuple[str, str]) -> None:
    client = _client(*live_scim)
    results = check_server(client)
    failures = [result for result in results if result.status == Status.ERROR]
    unexplained = [
        f"{result.resource_type} {result.title}: {result.reason}"
        for result in failures
        if not any(
            (result.resource_type, result.title) == (kind, title) and f"'{attribute}'" in (result.reason or "")
            for kind, title, attribute in EXPLAINED
        )
    ]
    assert len(results) > 50
    assert sum(result.status == Status.SUCCESS for result in results) > 50
    assert unexplained == [], "\n".join(unexplained)


def test_a_user_and_a_group_round_trip_through_scim2_client(live_scim: tuple[str, str]) -> None:
    client = _client(*live_scim)
    client.discover()
    created = client.create(
        UserResource(
            user_name="bjensen@example.com",
            name=User.Name(given_name="Barbara", family_name="Jensen"),
            display_name="Babs",
            emails=[User.Emails(value="bjensen@example.com", type="work", primary=True)],
            EnterpriseUser=EnterpriseUser(department="Tour Operations"),
        )
    )
    assert created.id is not None
    fetched = client.query(UserResource, created.id)
    assert fetched.user_name == "bjensen@example.com"
    assert fetched.EnterpriseUser.department == "Tour Operations"
    group = client.create(Group(display_name="Tour Guides", members=[Group.Members(value=created.id, type="User")]))
    found = client.query(Group, query_parameters=SearchRequest(filter='displayName eq "tour guides"'))
    assert [resource.id for resource in found.resources] == [group.id]
    client.modify(
        Group,
        group.id,
        PatchOp[Group](operations=[PatchOperation(op="remove", path=f'members[value eq "{created.id}"]')]),
    )
    assert client.query(Group, group.id).members is None
    client.delete(Group, group.id)
    client.delete(UserResource, created.id)
    users = client.query(UserResource, query_parameters=SearchRequest(filter='userName eq "bjensen@example.com"'))
    assert users.total_results == 0
