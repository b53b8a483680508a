"""`tenantry users export`: a progress bar, JSON lines, and a CSV that `users import` reads back as it was."""

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import httpx
from click.testing import Result
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.settings import get_settings
from tests.factories import Tenant
from tests.test_cli_import import cli_env  # noqa: F401  (the fixture)

runner = CliRunner()
COMPARED = ("email", "first_name", "last_name", "roles", "email_verified", "status", "locale")


async def _users(env: dict[str, str], *args: str) -> Result:
    get_settings.cache_clear()
    return await asyncio.to_thread(runner.invoke, app, ["users", *args], env=env)


async def _members(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    page = await client.get(tenant.path("/users"), params={"limit": 200}, headers=tenant.auth)
    return {user["email"]: {name: user[name] for name in COMPARED} for user in page.json()["items"]}


async def _awkward_members(tenant: Tenant, client: httpx.AsyncClient) -> None:
    """Members whose every exported field takes a value a CSV or a spreadsheet could get wrong."""
    await tenant.add_user("formula@example.com", first_name='=HYPERLINK("x")', last_name="'t Hooft")
    await tenant.add_user("plus@example.com", first_name="+1 555", last_name="-minus", roles=["viewer", "editor"])
    await tenant.add_user("at@example.com", first_name="@SUM(A1)", last_name="'=already quoted", email_verified=True)
    await tenant.add_user(
        "quotes@example.com", first_name='Zoë "Z", Jr.', last_name="Ünal", roles=["admin"], locale="fr"
    )
    await tenant.add_user("invited@example.com", password=None, roles=["viewer"], locale="de-AT")
    disabled = await tenant.add_user("disabled@example.com", first_name="\tTabbed")
    assert (await client.post(tenant.path(f"/users/{disabled.id}/disable"), headers=tenant.auth)).status_code == 200


async def test_an_exported_csv_imports_back_into_the_same_members_field_by_field(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    await _awkward_members(tenant, client)
    before = await _members(client, tenant)
    exported = tmp_path / "members.csv"

    result = await _users(cli_env, "export", "--org", tenant.slug, "--output", str(exported))
    assert result.exit_code == 0, result.stderr
    assert "100%" in result.stderr
    assert f"{len(before)}/{len(before)}" in result.stderr
    with exported.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["first_name"] for row in rows} >= {'\'=HYPERLINK("x")', "'+1 555", "'@SUM(A1)", "'\tTabbed"}
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for row in rows for cell in row.values())
    assert "password" not in exported.read_text()
    assert "$argon2" not in exported.read_text()

    listed = await client.get(tenant.path("/users"), params={"limit": 200}, headers=tenant.auth)
    for user in listed.json()["items"]:
        if "owner" not in user["roles"]:
            assert (await client.delete(tenant.path(f"/users/{user['id']}"), headers=tenant.auth)).status_code == 204
    owners = [email for email, member in before.items() if "owner" in member["roles"]]
    assert list(await _members(client, tenant)) == owners

    imported = await _users(cli_env, "import", str(exported), "--org", tenant.slug, "--json")
    assert json.loads(imported.stdout)["created"] == len(before) - len(owners), imported.stderr
    assert await _members(client, tenant) == before


async def test_jsonl_export_has_one_member_object_a_line_on_standard_output(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    client: httpx.AsyncClient,
) -> None:
    await tenant.add_user("second@example.com", roles=["viewer"])
    result = await _users(cli_env, "export", "--org", tenant.slug, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    listed = await client.get(tenant.path("/users"), headers=tenant.auth)
    assert lines == listed.json()["items"]
    assert ("second@example.com", ["viewer"], "active") in [
        (line["email"], line["roles"], line["status"]) for line in lines
    ]
    assert f"{len(lines)} member(s) exported" in result.stderr


async def test_exporting_an_unknown_organization_fails_clearly(cli_env: dict[str, str]) -> None:  # noqa: F811
    result = await _users(cli_env, "export", "--org", "no-such-org")
    assert result.exit_code == 1
    assert "no organization 'no-such-org'" in result.stderr
