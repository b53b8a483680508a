"""Schemathesis against the service's own OpenAPI document, with a platform admin's token.

Every operation is its own test (so xdist spreads them and each fails on its own), fuzzed three ways: valid
data with the path pinned to real things (an organization, a user, a role, a key), valid data with free path
parameters, and invalid data. Each case must get a documented status code, content type, headers and body,
and never a 5xx; every path answers an undocumented method with 405 and the documented ones in `Allow`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode

from tenantry.app import create_app
from tenantry.db.engine import Database
from tenantry.settings import Settings
from tests.conformance import DOCUMENTED, Report, check_methods, fuzz
from tests.factories import Tenant, bearer, make_tenant
from tests.live_server import serve

EXAMPLES_PER_MODE = 12


def _operation_labels() -> list[str]:
    """The document's operations, read at collection from the app itself (no database is opened)."""
    document = create_app(Settings(database_url="sqlite:///:memory:")).openapi()
    return [result.ok().label for result in schemathesis.openapi.from_dict(document).get_all_operations()]


OPERATIONS = _operation_labels()


@dataclass
class Live:
    url: str
    schema: Any
    operations: dict[str, Any]


@pytest.fixture(scope="module")
def live(settings: Settings, database: Database) -> Iterator[Live]:
    """One server for the module, on the migrated database (each test still starts from empty tables); the
    document it serves."""
    # The schema is under test, not mail: this server leaves the outbox to nobody.
    with serve(settings.model_copy(update={"outbox_in_process": False})) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
        yield Live(url, schema, operations)


async def _pinned_targets(client: httpx.AsyncClient, tenant: Tenant, root_token: str) -> dict[str, str]:
    """Real things for path parameters; the ones fuzzing may destroy are made for the purpose."""
    sacrificial = await tenant.add_user("fuzz-target@example.com", password=None)
    role = await client.post(tenant.path("/roles"), json={"name": "fuzz-role"}, headers=tenant.auth)
    key = await client.post(tenant.path("/api-keys"), json={"name": "k", "roles": ["viewer"]}, headers=tenant.auth)
    partner = await make_tenant(client, root_token, "fuzz-partner")
    await client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "viewer"}, headers=tenant.auth
    )
    resource = await client.post(tenant.path("/resources"), json={"type": "folder", "name": "f"}, headers=tenant.auth)
    app_client = {"name": "fuzz", "type": "public", "redirect_uris": ["https://app.example/cb"]}
    registered = await client.post(tenant.path("/clients"), json=app_client, headers=tenant.auth)
    return {
        "client_id": registered.json()["client_id"],
        "org": tenant.slug,
        "user": sacrificial.id,
        "role": role.json()["id"],
        "key": key.json()["id"],
        "partner_org": partner.slug,
        "resource": resource.json()["id"],
    }


def test_the_served_document_is_the_one_collected(live: Live) -> None:
    assert sorted(live.operations) == sorted(OPERATIONS)
    assert len(OPERATIONS) >= 30


def test_every_path_answers_its_methods_and_405_for_others(live: Live, root_token: str) -> None:
    report = Report()
    requests = check_methods(live.schema.raw_schema["paths"], live.url, bearer(root_token), report)
    report.assert_clean()
    assert requests >= len(live.schema.raw_schema["paths"])


@pytest.mark.parametrize("label", OPERATIONS)
async def test_operation_conforms_to_the_schema(
    label: str, client: httpx.AsyncClient, live: Live, tenant: Tenant, root_token: str
) -> None:
    operation = live.operations[label]
    pinned = await _pinned_targets(client, tenant, root_token)
    headers = bearer(root_token)
    names = {parameter.name for parameter in operation.path_parameters}
    deletes_tenant = operation.method.upper() == "DELETE" and operation.path == "/api/v1/orgs/{org}"
    cases = 0

    def run(mode: GenerationMode, path_parameters: dict[str, str] | None) -> None:
        nonlocal cases
        cases += fuzz(
            operation, live.url, headers, mode, path_parameters, checks=DOCUMENTED, examples=EXAMPLES_PER_MODE
        )

    if names and not deletes_tenant:
        run(GenerationMode.POSITIVE, {name: pinned[name] for name in names & pinned.keys()})
    run(GenerationMode.POSITIVE, None)
    if names or list(operation.query) or list(operation.body):
        run(GenerationMode.NEGATIVE, None)
    assert cases >= 1
