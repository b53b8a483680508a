"""`tenantry keys rotate | list | retire`: a new key signs once every process publishes it, old keys verify until
retired."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import jwt
import pytest
from click.testing import Result
from typer.testing import CliRunner

from tenantry.auth import keys
from tenantry.cli import app
from tenantry.runtime import Runtime
from tenantry.settings import get_settings
from tests.factories import Tenant, bearer, token_for

runner = CliRunner()


@pytest.fixture
async def cli_env(database_url: str, runtime: Runtime) -> AsyncIterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {"TENANTRY_DATABASE_URL": database_url}
    get_settings.cache_clear()
    await runtime.keyring.load()  # leave the shared key ring as the database now says


async def _keys(env: dict[str, str], *args: str) -> Result:
    get_settings.cache_clear()
    return await asyncio.to_thread(runner.invoke, app, ["keys", *args], env=env)


def _states(listing: str) -> dict[str, str]:
    """Each key's state as `keys` prints it (``<kid>  created <when>  <state>``)."""
    return {kid: " ".join(state) for kid, _, _, *state in (line.split() for line in listing.splitlines())}


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_rotate_then_retire(
    cli_env: dict[str, str], client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    old_token = tenant.owner.token
    old_kid = _kid(old_token)
    rotated = await _keys(cli_env, "rotate")
    assert rotated.exit_code == 0, rotated.output
    [(new_kid, state)] = _states(rotated.stdout).items()
    assert state.startswith("next, signs from ")
    listed = _states((await _keys(cli_env, "list")).stdout)
    assert (listed[old_kid], listed[new_kid]) == ("signing", state)

    await runtime.keyring.load()  # what every process does within a minute
    published = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= published
    assert _kid(await token_for(client, tenant.owner.email)) == old_kid  # until every process publishes the new key

    async with runtime.database.transaction() as session:  # a minute and a half later
        for key in await keys.all_keys(session):
            key.created_at -= timedelta(seconds=keys.PUBLISH_SECONDS)
    await runtime.keyring.load()  # (read again meanwhile)
    listed = _states((await _keys(cli_env, "list")).stdout)
    assert (listed[old_kid], listed[new_kid]) == ("verifying", "signing")
    new_token = await token_for(client, tenant.owner.email)
    assert _kid(new_token) == new_kid
    assert (await client.get("/api/v1/me", headers=bearer(old_token))).status_code == 200

    signing = await _keys(cli_env, "retire", new_kid)
    assert signing.exit_code == 1
    assert "rotate first" in signing.stderr
    too_soon = await _keys(cli_env, "retire", old_kid)
    assert too_soon.exit_code == 1
    assert "may be valid until" in too_soon.stderr
    forced = await _keys(cli_env, "retire", old_kid, "--force")
    assert forced.exit_code == 0, forced.output
    assert "retired" in forced.stdout

    await runtime.keyring.load()
    assert (await client.get("/api/v1/me", headers=bearer(old_token))).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer(new_token))).status_code == 200
    published = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert old_kid not in published


async def test_retiring_an_unknown_key_fails_clearly(cli_env: dict[str, str]) -> None:
    result = await _keys(cli_env, "retire", "f" * 24)
    assert result.exit_code == 1
    assert "no live signing key" in result.stderr
