"""`tenantry clients create | list | rotate-secret | delete`: each does what it says to the database, and
the secrets it prints are the ones the OpenID provider accepts."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.core.clients.models import ClientSecret, OAuthClient
from tenantry.core.tokens.service import digest
from tenantry.runtime import Runtime
from tenantry.settings import get_settings
from tests.factories import Tenant

runner = CliRunner()
APP = "https://app.example/callback"


@pytest.fixture
def cli_env(database_url: str, runtime: Runtime) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {"TENANTRY_DATABASE_URL": database_url}
    get_settings.cache_clear()


async def _clients(env: dict[str, str], *args: str) -> Result:
    """Run the command in a thread: it starts its own event loop, which cannot nest in the test's."""
    get_settings.cache_clear()
    return await asyncio.to_thread(runner.invoke, app, ["clients", *args], env=env)


async def _printed(env: dict[str, str], *args: str) -> Any:
    result = await _clients(env, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def _works(client: httpx.AsyncClient, client_id: str, secret: str) -> bool:
    """Whether the OpenID provider accepts the secret (introspection authenticates the client)."""
    answer = await client.post("/oidc/introspect", data={"token": "x"}, auth=(client_id, secret))
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def test_create_list_rotate_and_delete_a_platform_client(
    cli_env: dict[str, str], client: httpx.AsyncClient, runtime: Runtime
) -> None:
    created = await _printed(
        cli_env, "create", "--name", "Web app", "--redirect-uri", APP, "--allowed-origin", "https://app.example"
    )
    client_id, first_secret = created["client_id"], created["client_secret"]
    assert (created["org_id"], created["type"], created["redirect_uris"]) == (None, "confidential", [APP])
    async with runtime.database.transaction() as session:
        stored = await session.get(OAuthClient, client_id)
        assert stored is not None
        assert (stored.name, stored.allowed_origins, stored.org_id) == ("Web app", ["https://app.example"], None)
        hashes = list(
            await session.scalars(select(ClientSecret.secret_hash).where(ClientSecret.client_id == client_id))
        )
        assert hashes == [digest(first_secret)]  # kept only as a hash
    assert await _works(client, client_id, first_secret)

    listed = await _printed(cli_env, "list")
    assert [item["client_id"] for item in listed] == [client_id]
    assert "client_secret" not in listed[0]

    rotated = await _printed(cli_env, "rotate-secret", client_id)
    second_secret = rotated["client_secret"]
    assert second_secret != first_secret
    assert rotated["previous_secret_expires_at"] is not None
    assert await _works(client, client_id, first_secret)  # the grace period (7 days by default)
    assert await _works(client, client_id, second_secret)

    ended = await _clients({**cli_env, "TENANTRY_CLIENT_SECRET_GRACE_SECONDS": "0"}, "rotate-secret", client_id)
    assert ended.exit_code == 0, ended.output
    third_secret = json.loads(ended.stdout)["client_secret"]
    assert not await _works(client, client_id, first_secret)
    assert not await _works(client, client_id, second_secret)
    assert await _works(client, client_id, third_secret)

    deleted = await _clients(cli_env, "delete", client_id)
    assert deleted.exit_code == 0, deleted.output
    assert f"deleted client {client_id}" in deleted.stderr
    async with runtime.database.transaction() as session:
        assert await session.get(OAuthClient, client_id) is None
        assert list(await session.scalars(select(ClientSecret).where(ClientSecret.client_id == client_id))) == []
    assert await _printed(cli_env, "list") == []
    assert not await _works(client, client_id, third_secret)


async def test_an_organization_owns_the_clients_made_with_org(
    cli_env: dict[str, str], client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    created = await _printed(
        cli_env, "create", "--name", "Nightly sync", "--redirect-uri", APP, "--grant-type", "client_credentials",
        "--org", tenant.slug,
    )  # fmt: skip
    assert (created["org_id"], created["grant_types"]) == (tenant.id, ["client_credentials"])
    assert [item["client_id"] for item in await _printed(cli_env, "list", "--org", tenant.slug)] == [
        created["client_id"]
    ]
    assert await _printed(cli_env, "list") == []  # not a platform client
    machine = await client.post(
        "/oidc/token", data={"grant_type": "client_credentials"}, auth=(created["client_id"], created["client_secret"])
    )
    assert machine.status_code == 200, machine.text

    not_platform = await _clients(cli_env, "delete", created["client_id"])
    assert (not_platform.exit_code, "client not found" in not_platform.stderr) == (1, True)
    assert (await _clients(cli_env, "delete", created["client_id"], "--org", tenant.slug)).exit_code == 0
    async with runtime.database.transaction() as session:
        assert await session.get(OAuthClient, created["client_id"]) is None


async def test_refusals_print_an_error_and_change_nothing(cli_env: dict[str, str], runtime: Runtime) -> None:
    insecure = await _clients(cli_env, "create", "--name", "x", "--redirect-uri", "http://app.example/cb")
    assert insecure.exit_code == 1
    assert "https" in insecure.stderr
    public = await _printed(cli_env, "create", "--name", "SPA", "--type", "public", "--redirect-uri", APP)
    assert public["client_secret"] is None
    no_secret = await _clients(cli_env, "rotate-secret", public["client_id"])
    assert (no_secret.exit_code, "public clients have no secret" in no_secret.stderr) == (1, True)
    unknown_org = await _clients(cli_env, "list", "--org", "no-such-org")
    assert (unknown_org.exit_code, "no organization" in unknown_org.stderr) == (1, True)
    async with runtime.database.transaction() as session:
        assert [row.id for row in await session.scalars(select(OAuthClient))] == [public["client_id"]]
