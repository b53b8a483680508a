"""The `tenantry` command: serve, deliver the outbox, migrate, bootstrap, signing keys."""

import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from tenantry import logs, tracing
from tenantry.auth import keys
from tenantry.cli_clients import clients_app
from tenantry.cli_users import users_app
from tenantry.core import resealing
from tenantry.core.actor import SYSTEM
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.credentials.policy import DEFAULT_POLICY
from tenantry.core.fields import Email
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.schemas import OrgCreate
from tenantry.core.tokens.models import SigningKey
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.db import migrate
from tenantry.db.base import utcnow
from tenantry.db.engine import Database
from tenantry.errors import TenantryError
from tenantry.settings import Settings, get_settings, unknown_variables

app = typer.Typer(help="Tenantry: users and organizations for many tenants.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="Signing keys of access tokens.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(clients_app, name="clients")
err = Console(stderr=True)
SERVER_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,  # RequestContextMiddleware logs each request, with its id
    "log_config": None,
    "server_header": False,
}
"""How uvicorn serves every process of ours (the API and the worker's /metrics)."""
WORKER_START_SECONDS = 30


def _database(settings: Settings, *, statement_timeout: bool = True) -> Database:
    """The database, its statements cut off at ``TENANTRY_DB_STATEMENT_TIMEOUT_SECONDS`` unless
    ``statement_timeout`` is False (a migration: building an index over a large table takes as long as it takes)."""
    return Database(
        settings.database_url,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        statement_timeout_seconds=settings.db_statement_timeout_seconds if statement_timeout else None,
    )


def _started() -> Settings:
    """The settings of a command that goes on running (``serve``, ``worker``), its log configured: the log says
    which ``TENANTRY_*`` variables it ignores, naming no setting."""
    settings = get_settings()
    logs.configure(settings)
    if unknown := unknown_variables(os.environ):
        structlog.get_logger("tenantry").warning("environment variables name no setting, ignored", variables=unknown)
    return settings


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


async def prepare_database(settings: Settings) -> None:
    """The embedded SQLite database upgrades itself; a PostgreSQL one must have been upgraded already."""
    database = _database(settings)
    try:
        if database.is_sqlite:
            await migrate.upgrade(database)
        elif not await migrate.is_current(database):
            _fail("the database schema is not current: run `tenantry db upgrade` first")
    finally:
        await database.dispose()


def prepare_apart(settings: Settings) -> None:
    """``prepare_database`` in a forked child, for the commands that go on serving in this process: the check
    imports Alembic, Mako and Pygments' lexers (7 MiB resident) that the server would carry and never use
    again. The child's failure ends the command with its exit status, after what the child printed."""
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        status = 1
        try:
            status = _exit_status(lambda: asyncio.run(prepare_database(settings)))
        finally:
            os._exit(status)  # never back into the parent's stack, whatever happened
    _, waited = os.waitpid(child, 0)
    if status := os.waitstatus_to_exitcode(waited):
        raise typer.Exit(status)


def _exit_status(run: Callable[[], None]) -> int:
    """What the command would have exited with had ``run`` run in its process."""
    try:
        run()
    except typer.Exit as stop:
        return stop.exit_code
    except Exception:  # noqa: BLE001 - printed as the command itself would, then its exit status
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one per core is a good start).")] = 1,
) -> None:
    """Serve the API (SQLite databases are upgraded first)."""
    import uvicorn

    settings = _started()
    prepare_apart(settings)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts in files here and /metrics sums them (tenantry.metrics); fresh on every start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tenantry-metrics-")
    uvicorn.run(
        "tenantry.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # A worker answers the supervisor's health check once it has imported the CLI and the app, which takes
        # 2-6 s on a busy two-core machine; uvicorn's default of 5 s killed workers that were still starting,
        # over and over, and `--workers 2` never served.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        **SERVER_OPTIONS,
    )


async def _deliver(settings: Settings, once: bool) -> int:
    from tenantry.app import build_runtime
    from tenantry.worker import OutboxWorker

    runtime = build_runtime(settings)
    tracing.configure(runtime.database.engine)
    worker = OutboxWorker(runtime)
    try:
        if once:
            return await worker.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        worker.start()
        await stop.wait()
        await worker.stop()
        return 0
    finally:
        await runtime.database.dispose()


def _deliver_with_metrics(settings: Settings, port: int) -> None:
    """Deliver until stopped while serving GET /metrics on ``port`` (uvicorn stops both on SIGINT/SIGTERM,
    the worker finishing the message in hand)."""
    import uvicorn

    from tenantry.app import build_runtime, create_worker_app

    runtime = build_runtime(settings)
    tracing.configure(runtime.database.engine)
    uvicorn.run(
        create_worker_app(runtime),
        host=settings.worker_metrics_host,
        port=port,
        **SERVER_OPTIONS,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
) -> None:
    """Deliver the outbox (emails, webhooks) until stopped; for when TENANTRY_OUTBOX_IN_PROCESS=false.
    With TENANTRY_WORKER_METRICS_PORT set it also serves GET /metrics on that port."""
    settings = _started()
    prepare_apart(settings)
    if settings.worker_metrics_port is not None and not once:
        _deliver_with_metrics(settings, settings.worker_metrics_port)
        return
    attempted = asyncio.run(_deliver(settings, once))
    if once:
        err.print(f"{attempted} message(s) attempted")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest revision."""

    async def run() -> None:
        database = _database(get_settings(), statement_timeout=False)
        try:
            await migrate.upgrade(database)
        finally:
            await database.dispose()

    asyncio.run(run())
    err.print("database schema is current")


class _Admin(BaseModel):
    email: Email


def _where(database: Database) -> str:
    """The database, as a person would find it: a SQLite file's absolute path, a server's URL without password."""
    if database.is_sqlite:
        return str(Path(database.url.database or "").resolve())
    return database.url.set(drivername="postgresql").render_as_string(hide_password=True)


async def _bootstrap(settings: Settings, org: OrgCreate, email: str, password: str, *, another: bool) -> dict[str, Any]:
    database = _database(settings)
    err.print(f"database: [bold]{_where(database)}[/bold]")
    try:
        if database.is_sqlite:
            await migrate.upgrade(database)
        password_hash = await Passwords(settings).hash(password)
        async with database.transaction() as session:
            admin = User(email=email, password_hash=password_hash, email_verified=True)
            user = await users.create_first_platform_admin(session, admin, another=another)
            created = await orgs.create(session, SYSTEM, org, owner=user)
            return {
                "org": {"id": created.id, "slug": created.slug},
                "user": {"id": user.id, "email": user.email},
                "database": _where(database),
            }
    finally:
        await database.dispose()


@app.command()
def bootstrap(
    org_slug: Annotated[str, typer.Option("--org-slug", help="Slug of the first organization.")],
    org_name: Annotated[str, typer.Option("--org-name", help="Name of the first organization.")],
    email: Annotated[str, typer.Option("--email", help="Email of its owner, a platform admin.")],
    password: Annotated[str | None, typer.Option("--password", help="Generated when not given.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    add_platform_admin: Annotated[
        bool, typer.Option("--add-platform-admin", help="Add a platform admin although one exists already.")
    ] = False,
) -> None:
    """Create an organization and a platform admin who owns it; prints the credentials and the database used.

    Refuses (exit 1, nothing changed) when a platform admin exists already, unless --add-platform-admin."""
    try:
        org = OrgCreate(name=org_name, slug=org_slug)
        admin = _Admin(email=email)
    except ValidationError as error:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()))
        return
    generated = password is None
    password = password if password is not None else secrets.token_urlsafe(18)
    broken = DEFAULT_POLICY.violations(password)
    if broken:
        _fail(f"password {', '.join(broken)}")
    try:
        result = asyncio.run(_bootstrap(get_settings(), org, admin.email, password, another=add_platform_admin))
    except TenantryError as error:
        _fail(f"{error.detail}; nothing was changed")
        return
    result["password"] = password
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    err.print(f"organization [bold]{result['org']['slug']}[/bold] ({result['org']['id']})")
    err.print(f"platform admin [bold]{result['user']['email']}[/bold] ({result['user']['id']})")
    if generated:
        err.print(f"password: [bold]{password}[/bold]  (generated; shown once)")


def _key_row(row: SigningKey, signing: SigningKey | None) -> dict[str, Any]:
    pending = row.retired_at is None and signing is not None and row.created_at > signing.created_at
    return {
        "kid": row.id,
        "created_at": row.created_at.isoformat(),
        "retired_at": row.retired_at.isoformat() if row.retired_at else None,
        "signing": signing is not None and row.id == signing.id,
        "signs_from": keys.signs_from(row).isoformat() if pending else None,
    }


async def _keys(
    settings: Settings, work: str, kid: str | None = None, force: bool = False, algorithm: str = keys.ALGORITHM
) -> list[dict[str, Any]]:
    """Rotate, retire or list the signing keys; the keys concerned, as printed."""
    database = _database(settings)
    token_lifetime = timedelta(seconds=max(settings.access_token_ttl_seconds, settings.impersonation_token_ttl_seconds))
    try:
        if database.is_sqlite:
            await migrate.upgrade(database)
        async with database.transaction(write=work != "list") as session:
            if work == "rotate":
                rows = [await keys.rotate(session, algorithm)]
            elif work == "retire":
                rows = [await keys.retire(session, kid or "", token_lifetime=token_lifetime, force=force)]
            else:
                rows = await keys.all_keys(session)
            live, now = await keys.live_keys(session), utcnow()
            signing = {name: keys.signing_key(live, name, now) for name in keys.ALGORITHMS}
            return [_key_row(row, signing[row.algorithm]) for row in rows]
    finally:
        await database.dispose()


def _run_keys(
    work: str, kid: str | None = None, force: bool = False, algorithm: str = keys.ALGORITHM
) -> list[dict[str, Any]]:
    try:
        return asyncio.run(_keys(get_settings(), work, kid, force, algorithm))
    except TenantryError as error:
        _fail(error.detail)
        return []


def _print_keys(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["signing"]:
            state = "signing"
        elif row["retired_at"]:
            state = f"retired {row['retired_at']}"
        elif row["signs_from"]:
            state = f"next, signs from {row['signs_from']}"
        else:
            state = "verifying"
        sys.stdout.write(f"{row['kid']}  created {row['created_at']}  {state}\n")


@keys_app.command("rotate")
def keys_rotate(
    algorithm: Annotated[str, typer.Option(help="EdDSA (access tokens) or RS256 (ID tokens).")] = keys.ALGORITHM,
) -> None:
    """Add a signing key; it signs new tokens once every process publishes it (90 s), the current key until then.
    Older keys keep verifying until retired."""
    if algorithm not in keys.ALGORITHMS:
        _fail(f"--algorithm must be one of: {', '.join(keys.ALGORITHMS)}")
    _print_keys(_run_keys("rotate", algorithm=algorithm))


@keys_app.command("list")
def keys_list() -> None:
    """Every signing key: which one signs, which verify, which are retired."""
    _print_keys(_run_keys("list"))


@keys_app.command("reseal")
def keys_reseal() -> None:
    """Seal every stored secret (TOTP, webhook signing secrets) with the first key of TENANTRY_SECRET_KEY;
    then older keys may go."""

    async def run(settings: Settings) -> int:
        database = _database(settings)
        try:
            async with database.transaction() as session:
                return await resealing.reseal_every_secret(session, settings)
        finally:
            await database.dispose()

    err.print(f"{asyncio.run(run(get_settings()))} secret(s) sealed again with the current key")


@keys_app.command("retire")
def keys_retire(
    kid: Annotated[str, typer.Argument(help="The key's id (the `kid` of the tokens it signed).")],
    force: Annotated[bool, typer.Option("--force", help="Retire even though tokens it signed may be valid.")] = False,
) -> None:
    """Stop a key verifying tokens (refused for the newest key, and while its tokens may be valid). Forced (the key
    leaked), it stops signing too, at once: rotate first, so that the new key takes over."""
    _print_keys(_run_keys("retire", kid, force))
