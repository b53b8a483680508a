"""The `tenantry` command: bootstrap, db upgrade, and serve as `make run` starts it."""

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.db import migrate
from tenantry.db.engine import Database
from tenantry.settings import get_settings, unknown_variables
from tests.conftest import BACKEND, empty_database
from tests.live_server import free_port

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, database: object) -> Iterator[dict[str, str]]:
    """Environment pointing the CLI at the test database (already migrated)."""
    env = {
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_ARGON2_MEMORY_KIB": "1024",
        "TENANTRY_ARGON2_TIME_COST": "1",
    }
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


async def _invoke(args: list[str], env: dict[str, str]) -> Result:
    """Run the command in a thread: it starts its own event loop, which cannot nest in the test's."""
    get_settings.cache_clear()
    return await asyncio.to_thread(runner.invoke, app, args, env=env)


async def _bootstrap(env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    args = ["bootstrap", "--org-slug", "acme", "--org-name", "Acme", "--email", "Admin@Acme.test", "--json", *extra]
    result = await _invoke(args, env)
    return result.exit_code, result.stdout, result.stderr


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )


async def test_bootstrap_prints_one_json_object_and_the_admin_can_sign_in(
    cli_env: dict[str, str], client: httpx.AsyncClient
) -> None:
    code, stdout, _ = await _bootstrap(cli_env)
    assert code == 0
    printed = json.loads(stdout)
    assert set(printed) == {"org", "user", "password", "database"}
    assert printed["org"]["slug"] == "acme"
    assert len(printed["org"]["id"]) == len(printed["user"]["id"]) == 24
    assert len(printed["password"]) >= 20
    token = (await _login(client, "admin@acme.test", printed["password"])).json()["access_token"]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["platform_admin"] is True
    assert me["memberships"][0]["roles"] == ["owner"]


async def test_bootstrap_takes_a_given_password(cli_env: dict[str, str], client: httpx.AsyncClient) -> None:
    code, stdout, _ = await _bootstrap(cli_env, "--password", "my chosen password")
    assert code == 0
    assert json.loads(stdout)["password"] == "my chosen password"
    assert (await _login(client, "admin@acme.test", "my chosen password")).status_code == 200


async def test_bootstrap_again_fails_and_changes_nothing(cli_env: dict[str, str], client: httpx.AsyncClient) -> None:
    assert (await _bootstrap(cli_env))[0] == 0
    same_email = await _invoke(
        [
            "bootstrap",
            "--org-slug",
            "other",
            "--org-name",
            "O",
            "--email",
            "ADMIN@acme.test",
            "--json",
            "--add-platform-admin",
        ],
        cli_env,
    )
    assert same_email.exit_code == 1
    assert "already exists" in same_email.stderr
    assert same_email.stdout == ""
    same_slug = await _invoke(
        ["bootstrap", "--org-slug", "acme", "--org-name", "O", "--email", "new@acme.test", "--add-platform-admin"],
        cli_env,
    )
    assert same_slug.exit_code == 1
    assert "slug 'acme' already exists" in same_slug.stderr
    # Neither attempt left anything behind: the second account does not exist.
    assert (await _login(client, "new@acme.test", "whatever at all")).status_code == 400


async def test_a_second_bootstrap_adds_no_platform_admin_unless_asked(
    cli_env: dict[str, str], client: httpx.AsyncClient
) -> None:
    assert (await _bootstrap(cli_env))[0] == 0
    args = ["bootstrap", "--org-slug", "beta", "--org-name", "Beta", "--email", "second@acme.test"]
    refused = await _invoke([*args, "--password", "the second admin"], cli_env)
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())  # the console wraps long lines
    assert "a platform admin exists already: pass --add-platform-admin" in said
    assert "nothing was changed" in said
    assert (await _login(client, "second@acme.test", "the second admin")).status_code == 400

    added = await _invoke([*args, "--password", "the second admin", "--add-platform-admin", "--json"], cli_env)
    assert added.exit_code == 0, added.stderr
    token = (await _login(client, "second@acme.test", "the second admin")).json()["access_token"]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["platform_admin"] is True


@pytest.mark.skipif(BACKEND != "sqlite", reason="a relative path is a SQLite database's")
async def test_bootstrap_says_which_database_it_wrote_a_relative_sqlite_path_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"TENANTRY_DATABASE_URL": "sqlite:///./here.db", "TENANTRY_ARGON2_MEMORY_KIB": "1024"}
    result = await _invoke(["bootstrap", "--org-slug", "acme", "--org-name", "A", "--email", "a@acme.test"], env)
    assert result.exit_code == 0, result.stderr
    written = str(tmp_path / "here.db")  # tmp_path is absolute
    assert f"database: {written}" in result.stderr.replace("\n", "")
    as_json = await _invoke(
        [
            "bootstrap",
            "--org-slug",
            "beta",
            "--org-name",
            "B",
            "--email",
            "b@acme.test",
            "--json",
            "--add-platform-admin",
        ],
        env,
    )
    assert json.loads(as_json.stdout)["database"] == written


def test_bootstrap_validates_its_input(cli_env: dict[str, str]) -> None:
    bad_slug = runner.invoke(
        app, ["bootstrap", "--org-slug", "A B", "--org-name", "O", "--email", "a@b.co"], env=cli_env
    )
    assert bad_slug.exit_code == 1
    assert "slug" in bad_slug.stderr
    short = runner.invoke(
        app,
        ["bootstrap", "--org-slug", "ok", "--org-name", "O", "--email", "a@b.co", "--password", "short"],
        env=cli_env,
    )
    assert short.exit_code == 1
    assert "at least 8" in short.stderr


def test_db_upgrade_is_idempotent(cli_env: dict[str, str]) -> None:
    first = runner.invoke(app, ["db", "upgrade"], env=cli_env)
    assert first.exit_code == 0
    assert runner.invoke(app, ["db", "upgrade"], env=cli_env).exit_code == 0


@pytest.mark.skipif(BACKEND != "postgresql", reason="the statement timeout is PostgreSQL's (asyncpg's)")
def test_db_upgrade_lets_a_migration_run_past_the_statement_timeout(
    cli_env: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def sleep(database: Database) -> None:
        async with database.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT pg_sleep(0.6)")

    async def cut_off() -> None:
        database = Database(database_url, statement_timeout_seconds=0.2)
        try:
            with pytest.raises(TimeoutError):
                await sleep(database)
        finally:
            await database.dispose()

    asyncio.run(cut_off())  # what the timeout does to any other command's statement
    monkeypatch.setattr(migrate, "upgrade", sleep)  # a migration building an index over a large table
    result = runner.invoke(app, ["db", "upgrade"], env={**cli_env, "TENANTRY_DB_STATEMENT_TIMEOUT_SECONDS": "0.2"})
    assert result.exit_code == 0, result.output


def _tenantry(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tenantry", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.skipif(BACKEND != "sqlite", reason="serve migrates only the embedded SQLite database")
def test_serve_migrates_a_new_sqlite_database_and_answers(tmp_path: Path) -> None:
    port = free_port()
    server = _tenantry("serve", "--port", str(port), env={"TENANTRY_DATABASE_URL": f"sqlite:///{tmp_path}/new.db"})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "tenantry serve did not come up"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"] == "Tenantry"
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert (tmp_path / "new.db").exists()


@pytest.mark.skipif(BACKEND != "postgresql", reason="only a PostgreSQL schema must be upgraded by hand")
def test_serve_refuses_an_unmigrated_postgresql_database(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        server = _tenantry("serve", "--port", str(free_port()), env={"TENANTRY_DATABASE_URL": url})
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 1
    assert b"tenantry db upgrade" in output


def test_serve_checks_the_schema_in_a_child_and_never_imports_alembic(cli_env: dict[str, str]) -> None:
    """The schema check imports Alembic, and with it Mako and Pygments' lexers (7 MiB resident): `serve` and
    `worker` run it in a forked child, so that the process that goes on serving never carries them."""
    check = (
        "import sys\n"
        "from tenantry.cli import prepare_apart\n"
        "from tenantry.settings import get_settings\n"
        "prepare_apart(get_settings())\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'alembic', 'mako'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], env={**os.environ, **cli_env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_served_app_leaves_what_it_built_out_of_the_collectors_walks(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tenantry serve`'s factory freezes the imported code and the app: a full collection under load walks only
    what requests left behind, not ~340,000 objects that live as long as the process (200 ms pauses)."""
    import gc

    from tenantry.app import serve_app

    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        serve_app()
        assert gc.get_freeze_count() > 50_000
    finally:
        gc.unfreeze()
        get_settings.cache_clear()


def test_unknown_variables_are_the_tenantry_ones_that_name_no_setting() -> None:
    environ = {"TENANTRY_DATABASE_URL": "sqlite://", "tenantry_log_level": "INFO", "HOME": "/root"}
    environ |= {"TENANTRY_RATE_LIMIT_STORAGE_URL": "redis://cache", "TENANTRY_SMTP_TIMEOUT": "5"}
    assert unknown_variables(environ) == ["TENANTRY_RATE_LIMIT_STORAGE_URL", "TENANTRY_SMTP_TIMEOUT"]


def test_the_worker_warns_of_a_variable_that_names_no_setting_and_runs(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "TENANTRY_RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"}
    worker = _tenantry("worker", "--once", env=env)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode()
    [warning] = [line for line in output.decode().splitlines() if "name no setting" in line]
    assert "TENANTRY_RATE_LIMIT_STORAGE_URL" in warning
    assert "TENANTRY_DATABASE_URL" not in warning
