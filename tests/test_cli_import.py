"""`tenantry users import`: the native and eva formats, the report of rows not created, idempotent re-runs."""

import asyncio
import csv
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import argon2
import httpx
import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.core.users.models import User
from tenantry.runtime import Runtime
from tenantry.settings import get_settings
from tests.factories import Tenant, bearer, login
from tests.scim.conftest import provisioning_key

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, database: object) -> Iterator[dict[str, str]]:
    env = {
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_ARGON2_MEMORY_KIB": "1024",
        "TENANTRY_ARGON2_TIME_COST": "1",
    }
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


async def _import(env: dict[str, str], *args: str) -> Result:
    """Run the command in a thread: it starts its own event loop, which cannot nest in the test's."""
    get_settings.cache_clear()
    return await asyncio.to_thread(runner.invoke, app, ["users", "import", *args, "--json"], env=env)


def _write(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


async def test_ten_thousand_rows_import_once_and_a_rerun_creates_nothing(
    cli_env: dict[str, str], tenant: Tenant, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    imported_hash = argon2.PasswordHasher(time_cost=1, memory_cost=1024).hash("Imported password 1")
    rows = [
        [f"bulk{i:05d}@example.com", f"First{i}", f"Last{i}", imported_hash if i % 2 else "", "viewer" if i % 3 else ""]
        for i in range(10_000)
    ]
    source = _write(tmp_path / "users.csv", ["email", "first_name", "last_name", "password_hash", "roles"], rows)

    first = await _import(cli_env, str(source), "--org", tenant.slug)
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["rows"], summary["created"], summary["present"], summary["failed"]) == (10_000, 10_000, 0, 0)
    assert "100%" in first.stderr
    assert "10000 rows" in first.stderr
    assert not (tmp_path / "users.csv.errors.csv").exists()

    second = await _import(cli_env, str(source), "--org", tenant.slug)
    assert second.exit_code == 0, second.stderr
    again = json.loads(second.stdout)
    assert (again["created"], again["present"], again["failed"]) == (0, 10_000, 0)
    report = _report(Path(again["report"]))
    assert len(report) == 10_000
    assert {(row["status"], row["reason"]) for row in report} == {("present", "already present")}

    page = await client.get(tenant.path("/users"), params={"q": "bulk0000", "limit": 20}, headers=tenant.auth)
    by_email = {user["email"]: user for user in page.json()["items"]}
    assert by_email["bulk00000@example.com"]["status"] == "invited"
    assert by_email["bulk00000@example.com"]["roles"] == ["member"]
    assert by_email["bulk00001@example.com"]["status"] == "active"
    assert by_email["bulk00001@example.com"]["roles"] == ["viewer"]
    tokens = await login(client, "bulk00001@example.com", "Imported password 1")
    me = await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == "bulk00001@example.com"


@pytest.mark.parametrize("batch_size", ["500", "2"])
async def test_rows_that_fail_are_listed_with_their_reason_in_line_order(
    batch_size: str, cli_env: dict[str, str], tenant: Tenant, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = _write(
        tmp_path / "mixed.csv",
        ["email", "password", "password_hash", "roles"],
        [
            ["plain@example.com", "a long enough password", "", "admin"],
            ["=HYPERLINK(1)", "", "", ""],
            ["weak@example.com", "short", "", ""],
            ["hash@example.com", "", "$md5$nope", ""],
            [
                "both@example.com",
                "a long enough password",
                "$2b$04$abcdefghijklmnopqrstuu5Ss6pIc.hZPYfB1.RP3S8BHzgFB6Vk.",
                "",
            ],
            ["role@example.com", "", "", "wizard"],
            ["PLAIN@example.com", "", "", ""],
        ],
    )
    errors = tmp_path / "why.csv"
    result = await _import(
        cli_env, str(source), "--org", tenant.slug, "--errors", str(errors), "--batch-size", batch_size
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["created"] == 1
    assert [(row["line"], row["email"], row["reason"]) for row in _report(errors)] == [
        ("3", "'=HYPERLINK(1)", "email is not a valid email address"),
        ("4", "weak@example.com", "password: Use at least 8 characters."),
        (
            "5",
            "hash@example.com",
            "password_hash: unrecognised hash: use argon2, bcrypt, pbkdf2-sha256, pbkdf2-sha512 or scrypt",
        ),
        ("6", "both@example.com", "give password or password_hash, not both"),
        ("7", "role@example.com", "unknown role 'wizard'"),
        ("8", "PLAIN@example.com", "the email is on line 2 already"),
    ]
    assert (await login(client, "plain@example.com", "a long enough password"))["access_token"]


async def test_the_eva_format_applies_evas_rules(
    cli_env: dict[str, str], tenant: Tenant, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    env = await client.post(
        tenant.path("/resources"),
        json={"type": "environment", "name": "Prod", "external_id": "env-1"},
        headers=tenant.auth,
    )
    assert env.status_code == 201
    source = _write(
        tmp_path / "eva.csv",
        ["email", "name", "company", "role", "password", "environmentUuid", "environmentName", "bot"],
        [
            ["sup@example.com", "Sup", "Acme", "SUPERVISOR", "Secret1", "env-1", "Prod", ""],
            ["view@example.com", "View", "", "VIEWER", "Secret1", "env-1", "Prod", ""],
        ],
        delimiter=";",
    )
    result = await _import(cli_env, str(source), "--org", tenant.slug, "--format", "eva")
    assert json.loads(result.stdout)["created"] == 1
    report = _report(Path(json.loads(result.stdout)["report"]))
    assert [row["reason"] for row in report] == ["VIEWER requires environmentUuid, environmentName and bot"]


async def test_unknown_organization_and_bad_header_fail_clearly(
    cli_env: dict[str, str], tenant: Tenant, tmp_path: Path
) -> None:
    source = _write(tmp_path / "u.csv", ["email"], [["a@example.com"]])
    missing = await _import(cli_env, str(source), "--org", "no-such-org")
    assert missing.exit_code == 1
    assert "no organization 'no-such-org'" in missing.stderr
    bad = _write(tmp_path / "bad.csv", ["email", "shoe_size"], [["a@example.com", "44"]])
    refused = await _import(cli_env, str(bad), "--org", tenant.slug)
    assert refused.exit_code == 1
    assert "unknown columns ['shoe_size']" in refused.stderr


async def test_an_import_changes_the_scim_etag_of_the_groups_it_grants(
    cli_env: dict[str, str], tenant: Tenant, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Imported grants bypass the ORM; the version of the SCIM Group they change must move all the same."""
    headers = {"Authorization": f"Bearer {await provisioning_key(tenant)}"}

    async def viewer_group_version() -> str:
        groups = await client.get(
            f"/scim/v2/{tenant.slug}/Groups", params={"filter": 'displayName eq "viewer"'}, headers=headers
        )
        return str(groups.json()["Resources"][0]["meta"]["version"])

    before = await viewer_group_version()
    people = _write(tmp_path / "people.csv", ["email", "roles"], [["imported@example.com", "viewer"]])
    assert (await _import(cli_env, str(people), "--org", tenant.slug)).exit_code == 0
    assert await viewer_group_version() != before


async def test_a_killed_import_leaves_a_report_of_every_failed_row_it_committed_and_a_rerun_completes(
    cli_env: dict[str, str], tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    """SIGKILL after a few batches: the report holds every failed row up to the last committed one (it is fsynced
    per batch), and running the file again creates the rest, exactly once."""
    rows = [
        [f"kill{i:04d}@example.com" if i % 10 else f"kill{i:04d}-not-an-email", "Kill the import 1!"]
        for i in range(1, 1_001)
    ]
    source = _write(tmp_path / "kill.csv", ["email", "password"], rows)
    report_path = tmp_path / "kill.csv.errors.csv"
    env = {**os.environ, **cli_env, "TENANTRY_ARGON2_MEMORY_KIB": "8192", "TENANTRY_ARGON2_TIME_COST": "2"}
    command = [sys.executable, "-m", "tenantry", "users", "import", str(source), "--org", tenant.slug]
    process = await asyncio.create_subprocess_exec(
        *command, "--batch-size", "50", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        while (created := await _imported(runtime)) < 3 * 45:  # three batches of 45 valid rows committed
            assert process.returncode is None, "the import ended before it could be killed: make it slower"
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(process.wait(), 30) == -signal.SIGKILL
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines_committed = max(int(email[4:8]) for email in await _imported_emails(runtime)) + 1  # the file's line
    failed_lines = {str(i + 1) for i in range(10, 1_001, 10) if i + 1 <= lines_committed}
    reported = {row["line"] for row in _report(report_path) if row["status"] == "failed"}
    assert failed_lines <= reported, sorted(failed_lines - reported)
    assert created >= 135

    rerun = await _import(cli_env, str(source), "--org", tenant.slug)
    summary = json.loads(rerun.stdout)
    assert summary["failed"] == 100
    assert summary["created"] + summary["present"] == 900
    assert await _imported(runtime) == 900
    assert len(set(await _imported_emails(runtime))) == 900


async def _imported_emails(runtime: Runtime) -> list[str]:
    async with runtime.database.transaction(write=False) as session:
        return list(await session.scalars(select(User.email).where(User.email.like("kill%"))))


async def _imported(runtime: Runtime) -> int:
    return len(await _imported_emails(runtime))
