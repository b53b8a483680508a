"""`tenantry users import`: load a CSV of users into an organization, with a progress bar and a report."""

import asyncio
import csv
import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenantry.auth.throttle import Throttle
from tenantry.cli_export import export_users
from tenantry.core import secretbox
from tenantry.core.actor import SYSTEM
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.flows.context import Flows
from tenantry.core.imports.eva import EvaFormat
from tenantry.core.imports.importer import Importer, ImportFormat, Summary
from tenantry.core.imports.native import NativeFormat
from tenantry.core.imports.records import csv_safe
from tenantry.core.imports.rows import Outcome
from tenantry.core.imports.units import OwnTransactions
from tenantry.core.orgs import service as orgs
from tenantry.db import migrate
from tenantry.db.engine import Database
from tenantry.errors import TenantryError
from tenantry.settings import Settings, get_settings
from tenantry.templating import Templates

users_app = typer.Typer(help="Users: bulk import and export.", no_args_is_help=True)
users_app.command("export")(export_users)
err = Console(stderr=True)
_CHUNK = 256 * 1024


class _Report:
    """The rows that were not created (failed or already present), written as they come: line,email,status,reason.

    Made durable (flushed and fsynced) after every batch, so an import killed at any point leaves every row
    not created of the batches it committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._file: Any = None

    def write(self, outcome: Outcome) -> None:
        if self._file is None:
            self._file = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "email", "status", "reason"])
        self._writer.writerow([outcome.line, csv_safe(outcome.email), outcome.status, csv_safe(outcome.reason)])
        self.rows += 1

    def settle(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def run_import(
    settings: Settings,
    source: BinaryIO,
    org_ref: str,
    import_format: str,
    report: _Report,
    batch_size: int,
    progress: Progress,
    *,
    invite: bool = False,
) -> Summary:
    database = Database(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        if database.is_sqlite:
            await migrate.upgrade(database)
        elif not await migrate.is_current(database):
            raise TenantryError("the database schema is not current: run `tenantry db upgrade` first")
        async with database.transaction(write=False) as session:
            org = await orgs.find(session, org_ref)
        if org is None:
            raise TenantryError(f"no organization {org_ref!r}")
        chosen: ImportFormat = EvaFormat() if import_format == "eva" else NativeFormat(org)
        passwords = Passwords(settings)
        task = progress.add_task("importing", total=_rows_expected(source, header=chosen.name == "native"))

        shown = [0]

        def settled(summary: Summary) -> None:
            report.settle()
            if summary.rows != shown[0]:  # a batch settles twice: its failures before it is written, then the rest
                shown[0] = summary.rows
                progress.update(task, completed=summary.rows)

        flows = Flows(settings, Templates(settings), passwords, Throttle(settings))
        importer = Importer(
            org=org,
            actor=SYSTEM,
            format=chosen,
            passwords=passwords,
            units=OwnTransactions(database),
            settings=settings,
            on_outcome=report.write,
            on_batch=settled,
            batch_size=batch_size,
            seal=partial(secretbox.seal, settings) if settings.secret_key is not None else None,
            invite_with=flows if invite else None,
            # An account that exists in another organization is asked to join (mailed, in its language),
            # as the API does; it becomes a member once its owner accepts.
            consent_with=flows,
            consent_always=True,
        )
        while chunk := source.read(_CHUNK):
            await importer.feed(chunk)
        summary = await importer.finish()
        progress.update(task, total=summary.rows, completed=summary.rows)
        return summary
    finally:
        await database.dispose()


def _rows_expected(source: BinaryIO, *, header: bool) -> int:
    """The rows of the file, counted as lines (a quoted field spanning lines makes it a little high), then rewound."""
    lines, last = 0, b"\n"
    while chunk := source.read(_CHUNK):
        lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    source.seek(0)
    return max(lines + (last != b"\n") - header, 0)


def _print_summary(summary: Summary, report: _Report) -> None:
    table = Table(title="import summary", show_header=False)
    for label, value in (
        ("rows", summary.rows),
        ("created", summary.created),
        ("already present", summary.present),
        ("failed", summary.failed),
        ("invitations sent", summary.invited),
        ("existing accounts asked to join", summary.asked),
        ("seconds", f"{summary.seconds:.2f}"),
        ("rows/s", f"{summary.rows_per_second:.0f}"),
    ):
        table.add_row(label, str(value))
    err.print(table)
    if report.rows:
        err.print(f"{report.rows} row(s) not created are listed in [bold]{report.path}[/bold]")


@users_app.command("import")
def import_users(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")],
    org: Annotated[str, typer.Option("--org", help="Slug or id of the organization.")],
    import_format: Annotated[
        Literal["native", "eva"], typer.Option("--format", help="native (a header row, commas) or eva (semicolons).")
    ] = "native",
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Where to list rows not created; default FILE.errors.csv.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=5000, help="Rows read, checked and hashed at a time.")
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")] = False,
    invite: Annotated[
        bool, typer.Option("--invite", help="Mail each user created without a password an invitation.")
    ] = False,
) -> None:
    """Import users from a CSV file; rows already present are reported and create nothing."""
    report = _Report(errors or source.with_name(source.name + ".errors.csv"))
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.completed:.0f}/{task.total:.0f} rows"),
        TimeElapsedColumn(),
        console=err,
    )
    try:
        with source.open("rb") as stream, progress:
            summary = asyncio.run(
                run_import(get_settings(), stream, org, import_format, report, batch_size, progress, invite=invite)
            )
    except TenantryError as error:
        err.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(1) from None
    finally:
        report.close()
    _print_summary(summary, report)
    if as_json:
        counts = {
            "rows": summary.rows,
            "created": summary.created,
            "present": summary.present,
            "failed": summary.failed,
            "invited": summary.invited,
            "asked_to_join": summary.asked,
        }
        sys.stdout.write(
            json.dumps({**counts, "seconds": round(summary.seconds, 3), "report": str(report.path)}) + "\n"
        )
    if summary.failed:
        raise typer.Exit(1)
