"""Schemathesis against the service's own OpenAPI document, with a platform admin's token.

Every operation is fuzzed three ways: valid data with the path pinned to real things (an organization,
a user, a role, a key), valid data with free path parameters, and invalid data. Each case must get a
documented status code, content type, headers and body, and never a 5xx; every path answers an undocumented
method with 405 and the documented ones in `Allow`. Each operation fails on its own.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode

from tenantry.settings import Settings
from tests.conformance import DOCUMENTED, Report, check_methods, fuzz
from tests.factories import Tenant, bearer, make_tenant
from tests.live_server import serve

EXAMPLES_PER_MODE = 12
ENDS_SESSION = {"/api/v1/auth/logout", "/api/v1/me/sessions/revoke"}


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    # The schema is under test, not mail: this server leaves the outbox to nobody.
    with serve(settings.model_copy(update={"outbox_in_process": False})) as url:
        yield url


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


async def test_native_api_conforms_to_its_own_schema(
    client: httpx.AsyncClient, live_url: str, tenant: Tenant, root_token: str
) -> None:
    pinned = await _pinned_targets(client, tenant, root_token)
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    headers = bearer(root_token)
    cases_run = 0

    def run(operation: Any, mode: GenerationMode, path_parameters: dict[str, str] | None) -> None:
        nonlocal cases_run
        cases_run += fuzz(
            operation, live_url, headers, mode, path_parameters, checks=DOCUMENTED, examples=EXAMPLES_PER_MODE
        )

    # Signing out ends the session the other operations are fuzzed with: those go last.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.path in ENDS_SESSION,
    )
    report = Report()
    check_methods(schema.raw_schema["paths"], live_url, headers, report)
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        deletes_tenant = operation.method.upper() == "DELETE" and operation.path == "/api/v1/orgs/{org}"
        with report.operation(operation.label):
            if names and not deletes_tenant:
                run(operation, GenerationMode.POSITIVE, {name: pinned[name] for name in names & pinned.keys()})
            run(operation, GenerationMode.POSITIVE, None)
            if names or list(operation.query) or list(operation.body):
                run(operation, GenerationMode.NEGATIVE, None)
    report.assert_clean()
    print(f"schemathesis: {cases_run} cases over {len(operations)} operations")
    assert len(operations) >= 30
    assert cases_run >= 20 * len(operations)
