"""`tenantry users import --invite` mails the invited rows (counted at a real SMTP server); the bar moves with rows."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from rich.progress import Progress, TaskID
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.cli_users import _Report, run_import
from tenantry.settings import get_settings
from tests.factories import Tenant
from tests.smtp_server import smtp_server
from tests.test_cli_import import _import, _report, _write, cli_env  # noqa: F401  (cli_env: the fixture)

runner = CliRunner()


async def _deliver(env: dict[str, str], smtp_url: str) -> None:
    get_settings.cache_clear()
    mail_env = {**env, "TENANTRY_SMTP_URL": smtp_url, "TENANTRY_SMTP_SECURITY": "none"}
    result = await asyncio.to_thread(runner.invoke, app, ["worker", "--once"], env=mail_env)
    assert result.exit_code == 0, result.stderr


async def test_import_with_invite_mails_each_row_created_without_a_password_once(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    tmp_path: Path,
) -> None:
    rows = [
        ["new1@example.com", "", ""],
        ["new2@example.com", "", "viewer"],
        ["withpassword@example.com", "a long enough password", ""],
        ["broken", "", ""],
        ["new3@example.com", "", ""],
    ]
    source = _write(tmp_path / "team.csv", ["email", "password", "roles"], rows)

    result = await _import(cli_env, str(source), "--org", tenant.slug, "--invite", "--batch-size", "2")

    summary = json.loads(result.stdout)
    assert (summary["created"], summary["failed"], summary["invited"]) == (4, 1, 3)
    assert "invitations sent" in result.stderr
    with smtp_server() as (inbox, url):
        await _deliver(cli_env, url)
    assert sorted(str(message["To"]) for message in inbox.accepted) == [
        "new1@example.com",
        "new2@example.com",
        "new3@example.com",
    ]
    assert all("/ui/activate?token=" in message.get_body(("plain",)).get_content() for message in inbox.accepted)  # type: ignore[union-attr]


async def test_each_invitation_of_an_import_speaks_its_rows_locale(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    tmp_path: Path,
) -> None:
    rows = [["fr@example.com", "fr"], ["de@example.com", "de-AT"], ["en@example.com", ""], ["xx@example.com", "1!"]]
    source = _write(tmp_path / "team.csv", ["email", "locale"], rows)
    result = await _import(cli_env, str(source), "--org", tenant.slug, "--invite")
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["failed"], summary["invited"]) == (3, 1, 3)
    assert [row["reason"] for row in _report(source.with_name("team.csv.errors.csv"))] == [
        "locale must be a language tag such as fr or de-AT"
    ]
    with smtp_server() as (inbox, url):
        await _deliver(cli_env, url)
    subjects = {str(message["To"]): str(message["Subject"]) for message in inbox.accepted}
    org = tenant.slug.title()
    assert subjects == {
        "fr@example.com": f"{org} vous a invité\u00a0: choisissez votre mot de passe",
        "de@example.com": f"{org} hat Sie eingeladen: Legen Sie Ihr Passwort fest",
        "en@example.com": f"{org} invited you: set your password",
    }


async def test_import_without_invite_mails_nobody(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    tmp_path: Path,
) -> None:
    source = _write(tmp_path / "quiet.csv", ["email"], [["quiet@example.com"]])
    summary = json.loads((await _import(cli_env, str(source), "--org", tenant.slug)).stdout)
    assert (summary["created"], summary["invited"]) == (1, 0)
    with smtp_server() as (inbox, url):
        await _deliver(cli_env, url)
    assert inbox.accepted == []


class _Recording(Progress):
    def __init__(self) -> None:
        super().__init__(console=Console(file=open("/dev/null", "w")))  # noqa: SIM115
        self.completed: list[float] = []

    def update(self, task_id: TaskID, **changes: Any) -> None:
        super().update(task_id, **changes)
        self.completed.append(self.tasks[0].completed)


async def test_the_progress_bar_moves_with_rows_not_only_at_the_end(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    source = _write(tmp_path / "many.csv", ["email"], [[f"row{i:04d}@example.com"] for i in range(2000)])
    progress = _Recording()
    get_settings.cache_clear()
    with source.open("rb") as stream:
        summary = await run_import(
            get_settings(), stream, tenant.slug, "native", _Report(tmp_path / "r.csv"), 500, progress
        )
    assert summary.created == 2000
    assert progress.tasks[0].total == 2000
    assert [done for done in progress.completed if 0 < done < 2000] == [500, 1000, 1500]


async def test_a_row_with_too_few_columns_fails_like_one_with_too_many(
    cli_env: dict[str, str],  # noqa: F811
    tenant: Tenant,
    tmp_path: Path,
) -> None:
    source = tmp_path / "ragged.csv"
    source.write_text("email,first_name,last_name\nshort@example.com,Ann\nlong@example.com,Bo,Bee,extra\n")
    result = await _import(cli_env, str(source), "--org", tenant.slug)
    assert json.loads(result.stdout)["failed"] == 2
    assert [(row["line"], row["reason"]) for row in _report(tmp_path / "ragged.csv.errors.csv")] == [
        ("2", "expected 3 columns, got 2"),
        ("3", "expected 3 columns, got 4"),
    ]


async def test_an_account_of_another_org_is_asked_to_join_not_failed(
    cli_env: dict[str, str],  # noqa: F811
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    tmp_path: Path,
) -> None:
    """As the API does: the account's owner is mailed a consent link in their language; no membership until yes."""
    elsewhere = await other_tenant.add_user("elsewhere@example.com", locale="de")
    source = _write(tmp_path / "mixed.csv", ["email", "roles"], [["elsewhere@example.com", "viewer"]])

    summary = json.loads((await _import(cli_env, str(source), "--org", tenant.slug)).stdout)

    assert (summary["created"], summary["failed"], summary["asked_to_join"]) == (1, 0, 1)
    members = await client.get(tenant.path("/users"), headers=tenant.auth)
    listed = {item["email"]: item for item in members.json()["items"]}
    assert "elsewhere@example.com" not in listed or listed["elsewhere@example.com"]["status"] != "active"
    with smtp_server() as (inbox, url):
        await _deliver(cli_env, url)
    [consent] = inbox.accepted
    assert consent["To"] == "elsewhere@example.com"
    assert consent["Subject"] == f"{tenant.slug.title()} lädt Sie ein, beizutreten"
    assert "/ui/join?token=" in consent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # The account itself is untouched: it signs in with its own password, still a member of its own org only.
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {elsewhere.token}"})).is_success
    again = json.loads((await _import(cli_env, str(source), "--org", tenant.slug)).stdout)
    assert (again["created"], again["asked_to_join"]) == (0, 0)
