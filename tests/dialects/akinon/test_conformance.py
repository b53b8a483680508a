"""Schemathesis with the vendor's own OpenAPI document against the mounted dialect, on a live server.

The document is the vendor's, copied verbatim next to this file, with the three errata that no correct
answer could meet (see ``vendor_spec`` and docs/dialects/akinon.md). Every operation is fuzzed with
valid data (path pinned to a real organization and user, and free), and with invalid data; documented
requests must get a documented status and body, and nothing may be a 5xx. Hand-made cases then drive
each success answer (201, 200, 204 and every kind of page) through the same checks.
"""

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tenantry.runtime import Runtime
from tests.conformance import DOCUMENTED, Report, check_methods, fuzz
from tests.dialects.akinon.helpers import MOUNT, disable, make_role
from tests.factories import Tenant, bearer, make_tenant, prove_credentials

SPEC = Path(__file__).with_name("akinon.openapi.json")
EXAMPLES_PER_MODE = 15


def vendor_spec() -> dict[str, Any]:
    """The vendor's document with the errata docs/dialects/akinon.md lists; nothing else changes."""
    spec: dict[str, Any] = json.loads(SPEC.read_text())
    schemas = spec["components"]["schemas"]
    # 1. mongoose-paginate-v2 answers null for prevPage/nextPage at the ends; the document says integer.
    for name in ("prevPage", "nextPage"):
        schemas["Pagination"]["properties"][name]["nullable"] = True
    # 2. lastLoginAt is required, but a user who never signed in has no such date: null.
    schemas["User"]["properties"]["lastLoginAt"] = {
        "type": "string", "format": "date-time", "readOnly": True, "nullable": True,
    }  # fmt: skip
    # 3. OrganizationUser.roles[] is allOf(Role, {organization: MongoId}) while Role.organization is an
    #    Organization object: no value is both. We answer the organization's id, as the override says.
    linked_role = copy.deepcopy(schemas["Role"])
    linked_role["properties"]["organization"] = {"$ref": "#/components/schemas/MongoId"}
    schemas["LinkedRole"] = linked_role
    roles = schemas["OrganizationUser"]["allOf"][1]["properties"]["roles"]
    roles["items"] = {"$ref": "#/components/schemas/LinkedRole"}
    return spec


def vendor_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Invalid requests: any client error, always in the vendor's bodies (a GET's 400 is undocumented)."""
    body = response.json() if response.content else None
    if response.status_code == 400:
        assert isinstance(body, dict), body
        assert set(body) == {"validationError"}, body
        assert body["validationError"], body
        assert all(isinstance(message, str) for message in body["validationError"].values()), body
    elif response.status_code >= 400:
        assert response.status_code in (401, 403, 404, 405), response.status_code
        assert isinstance(body, dict), body
        assert set(body) == {"apiError"}, body
        assert all(isinstance(message, str) for message in body["apiError"]), body
    return None


NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance, vendor_error_shape]


@dataclass
class World:
    org_id: str
    fuzz_target_id: str
    """The user the fuzzer's pinned cases act on (and may delete)."""
    member_id: str
    """The user the hand-made cases change and delete."""
    disabled_id: str
    outsider_id: str
    auditor_role_id: str


async def _rename(client: httpx.AsyncClient, tenant: Tenant, user_id: str, root_token: str) -> None:
    body = {"first_name": "Named", "last_name": "Person"}
    response = await client.patch(tenant.path(f"/users/{user_id}"), json=body, headers=bearer(root_token))
    assert response.status_code == 200, response.text


async def _world(client: httpx.AsyncClient, runtime: Runtime, root_token: str) -> World:
    """An organization whose data meets the vendor's own rules (names of 5+ characters, a description)."""
    tenant = await make_tenant(client, root_token, "conform")
    described = await client.patch(tenant.path(), json={"description": "Conformance"}, headers=tenant.auth)
    assert described.status_code == 200, described.text
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    for user_id in (root_id, tenant.owner.id):  # the creator (platform admin) and the owner
        await _rename(client, tenant, user_id, root_token)
    member = await tenant.add_user("grace@example.com", first_name="Grace", last_name="Hopper")
    await tenant.add_user("invited@example.com", password=None, first_name="Invited", last_name="Person")
    disabled = await tenant.add_user("barbara@example.com", first_name="Barbara", last_name="Liskov")
    await disable(client, tenant, disabled)
    target = await tenant.add_user("target@example.com", password=None, first_name="Fuzzy", last_name="Target")
    auditor = await make_role(client, tenant, "auditor", ["users:read", "audit:read"])
    elsewhere = await make_tenant(client, root_token, "elsewhere")
    await _rename(client, elsewhere, elsewhere.owner.id, root_token)
    outsider = await elsewhere.add_user("edsger@example.com", first_name="Edsger", last_name="Dijkstra")
    await prove_credentials(runtime, outsider.id)  # a platform admin attaches it at once (``joining.attach``)
    return World(tenant.id, target.id, member.id, disabled.id, outsider.id, auditor["id"])


def _fuzz(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    mode: GenerationMode,
    path_parameters: dict[str, str] | None,
) -> int:
    checks = DOCUMENTED if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS
    return fuzz(operation, base_url, headers, mode, path_parameters, checks=checks, examples=EXAMPLES_PER_MODE)


def _hand_made_cases(schema: Any, world: World) -> list[tuple[Any, int]]:
    """One case per success answer the fuzzer cannot reach by chance, with the status it must get."""
    users = schema["/organizations/{organizationId}/users"]
    one = schema["/organizations/{organizationId}/users/{userId}"]
    search = schema["/organizations/{organizationId}/users/search/availables"]
    org = {"organizationId": world.org_id}
    pages = [{"limit": 2, "page": page} for page in (1, 2, 3, 9)] + [{"limit": 0}, {"limit": 500}]
    filters = [
        {"sort": "-firstName"},
        {"sort": "lastLoginAt -createdAt"},
        {"username": "EXAMPLE.com", "status": "1"},
        {"status": "0"},
        {"role": world.auditor_role_id},
    ]
    member = {**org, "userId": world.member_id}
    added = {"user": world.outsider_id, "roles": [world.auditor_role_id]}
    new_roles = {"roles": [world.auditor_role_id, "000000000000000000000006"]}
    return [
        *[(users["GET"].Case(path_parameters=org, query=query), 200) for query in pages + filters],
        (search["GET"].Case(path_parameters=org, query={"text": "edsger"}), 200),
        (search["GET"].Case(path_parameters=org), 200),
        (users["POST"].Case(path_parameters=org, body=added), 201),
        (users["POST"].Case(path_parameters=org, body={"user": world.outsider_id.upper()}), 400),
        (one["GET"].Case(path_parameters={**org, "userId": world.disabled_id}), 200),
        (one["PUT"].Case(path_parameters=member, body=new_roles), 200),
        (one["GET"].Case(path_parameters=member), 200),
        (one["DELETE"].Case(path_parameters=member), 204),
        (one["GET"].Case(path_parameters=member), 404),
    ]  # fmt: skip


async def test_dialect_conforms_to_the_vendors_document(
    client: httpx.AsyncClient, runtime: Runtime, live_url: str, root_token: str
) -> None:
    world = await _world(client, runtime, root_token)
    schema = schemathesis.openapi.from_dict(vendor_spec())
    base_url, headers = f"{live_url}{MOUNT}", bearer(root_token)
    hand_made = _hand_made_cases(schema, world)
    for case, expected in hand_made:
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=DOCUMENTED)
        assert response.status_code == expected, (case.operation.label, case.query, response.text)

    operations = [result.ok() for result in schema.get_all_operations()]
    pinned = {"organizationId": world.org_id, "userId": world.fuzz_target_id}
    cases, report = 0, Report()
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        with report.operation(operation.label):
            cases += _fuzz(operation, base_url, headers, GenerationMode.POSITIVE, {n: pinned[n] for n in names})
            cases += _fuzz(operation, base_url, headers, GenerationMode.POSITIVE, None)
            cases += _fuzz(operation, base_url, headers, GenerationMode.NEGATIVE, None)
    check_methods(schema.raw_schema["paths"], base_url, headers, report)
    report.assert_clean()
    print(f"schemathesis: {len(hand_made)} hand-made and {cases} generated cases over {len(operations)} operations")
    assert len(operations) == 6
    assert cases >= 30 * len(operations)
