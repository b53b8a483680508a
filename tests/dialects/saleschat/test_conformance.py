"""Schemathesis with the vendor's own OpenAPI document against the mounted dialect, on a live server.

The document is the vendor's, copied verbatim next to this file, with the one erratum listed in
``vendor_spec`` (see docs/dialects/saleschat.md). Every operation is fuzzed with valid data (path pinned
to a real organization and user, and free) and with invalid data, with an admin's token: documented
requests must get a documented status and body, and nothing may be a server error. Hand-made cases then
drive each success answer and each documented failure through the same checks.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.conformance import DOCUMENTED, Report, check_methods, fuzz
from tests.dialects.saleschat.helpers import MISSING_ID, MOUNT, NEW_PASSWORD, new_user
from tests.factories import bearer, make_tenant

SPEC = Path(__file__).with_name("saleschat.openapi.json")
EXAMPLES_PER_MODE = 15
ERROR_FIELDS = {"error_code", "error_message", "error_description", "payload"}


def vendor_spec() -> dict[str, Any]:
    """The vendor's document with the erratum docs/dialects/saleschat.md lists; nothing else changes."""
    spec: dict[str, Any] = json.loads(SPEC.read_text())
    # 1. Creating a user whose email is taken answers 409 UQ_CONSTRAINT_FAILED (the vendor's own error code
    #    4090001), which the document leaves out of the operation's answers.
    create = spec["paths"]["/v1/org/{orgId}/user"]["post"]["responses"]
    create["409"] = {
        "description": "A user with this email already exists",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorRespDto"}}},
    }
    return spec


def vendor_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Invalid requests: any client error, always an ErrorRespDto whose code starts with the status."""
    if response.status_code >= 400:
        assert response.status_code in (401, 403, 404, 405, 409, 422), response.status_code
        body = response.json()
        assert set(body) == ERROR_FIELDS, body
        assert body["error_code"] // 10_000 == response.status_code, body
        assert isinstance(body["payload"], dict), body
    return None


NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance, vendor_error_shape]


@dataclass
class World:
    org_id: str
    fuzz_target_id: str
    """The user the fuzzer's pinned cases act on (and delete)."""
    member_id: str
    """The user the hand-made cases change and delete."""


async def _world(client: httpx.AsyncClient, root_token: str) -> World:
    tenant = await make_tenant(client, root_token, "conform")
    member = await tenant.add_user("grace@example.com", first_name="Grace", last_name="Hopper")
    await tenant.add_user("invited@example.com", password=None, first_name="Invited")
    target = await tenant.add_user("target@example.com", first_name="Fuzzy", last_name="Target")
    elsewhere = await make_tenant(client, root_token, "elsewhere")
    await elsewhere.add_user("edsger@example.com")
    return World(tenant.id, target.id, member.id)


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
    """One case per answer the fuzzer cannot reach by chance, in order, with the status it must get."""
    users = schema["/v1/org/{orgId}/user"]
    org = {"orgId": world.org_id}
    one = {**org, "userId": world.member_id}
    missing = {**org, "userId": MISSING_ID}

    def on_member(action: str) -> Any:
        method = "GET" if action == "magiclink" else "POST"
        return schema[f"/v1/org/{{orgId}}/user/{{userId}}/{action}"][method]

    searches = [{"q": "example"}, {"q": "EXAMPLE", "offset": 1, "size": 2}, {"q": "", "size": 0}, {"q": "nobody"}]
    reset = {"password": NEW_PASSWORD, "ask_user_to_update_password_on_login": True}
    return [
        *[(users["GET"].Case(path_parameters=org, query=query), 200) for query in searches],
        (users["GET"].Case(path_parameters={"orgId": MISSING_ID}, query={"q": ""}), 403),
        (users["POST"].Case(path_parameters=org, body=new_user()), 200),
        (users["POST"].Case(path_parameters=org, body=new_user()), 409),
        (users["POST"].Case(path_parameters=org, body=new_user("bad", password="short")), 422),
        (users["POST"].Case(path_parameters={"orgId": MISSING_ID}, body=new_user("x@example.com")), 403),
        (on_member("password/reset").Case(path_parameters=one, body=reset), 204),
        (on_member("password/reset").Case(path_parameters=one, body={}), 422),
        (on_member("password/reset").Case(path_parameters=missing, body=reset), 404),
        (on_member("magiclink").Case(path_parameters=one), 200),
        (on_member("disable").Case(path_parameters=one), 204),
        (on_member("magiclink").Case(path_parameters=one), 403),
        (on_member("enable").Case(path_parameters=one), 204),
        (on_member("delete").Case(path_parameters=one), 204),
        *[(on_member(action).Case(path_parameters=one), 404) for action in ("magiclink", "disable", "delete")],
    ]  # fmt: skip


async def test_dialect_conforms_to_the_vendors_document(
    client: httpx.AsyncClient, live_url: str, root_token: str
) -> None:
    world = await _world(client, root_token)
    schema = schemathesis.openapi.from_dict(vendor_spec())
    base_url, headers = f"{live_url}{MOUNT}", bearer(root_token)
    hand_made = _hand_made_cases(schema, world)
    for case, expected in hand_made:
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=DOCUMENTED)
        assert response.status_code == expected, (case.operation.label, case.path_parameters, response.text)

    # Deleting the pinned user last lets every other operation act on a live one first.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda op: op.label.endswith("/delete")
    )
    pinned = {"orgId": world.org_id, "userId": world.fuzz_target_id}
    cases, report = 0, Report()
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        with report.operation(operation.label):
            cases += _fuzz(operation, base_url, headers, GenerationMode.POSITIVE, {n: pinned[n] for n in names})
            cases += _fuzz(operation, base_url, headers, GenerationMode.POSITIVE, None)
            if len(operation.body) or len(operation.query):  # free strings in the path alone cannot be invalid
                cases += _fuzz(operation, base_url, headers, GenerationMode.NEGATIVE, None)
    check_methods(schema.raw_schema["paths"], base_url, headers, report)
    report.assert_clean()
    print(f"schemathesis: {len(hand_made)} hand-made and {cases} generated cases over {len(operations)} operations")
    assert len(operations) == 7
    assert cases >= 20 * len(operations)  # operations with nothing but a pinned path have one case
