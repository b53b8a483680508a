"""`tenantry users export`: every member of an organization to a CSV or JSON-lines file, with a progress bar."""

import asyncio
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tenantry.core.orgs import service as orgs
from tenantry.core.users import export
from tenantry.db import migrate
from tenantry.db.engine import Database
from tenantry.errors import OrganizationNotFound, TenantryError
from tenantry.settings import Settings, get_settings

err = Console(stderr=True)


async def run_export(
    settings: Settings, org_ref: str, export_format: export.ExportFormat, out: TextIO, progress: Progress
) -> int:
    """Write the export of ``org_ref`` to ``out`` a page at a time; the number of members written."""
    database = Database(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        if not await migrate.is_current(database):
            raise TenantryError("the database schema is not current: run `tenantry db upgrade` first")
        try:
            async with database.transaction(write=False) as session:
                org = await orgs.get(session, org_ref)
        except OrganizationNotFound:
            raise TenantryError(f"no organization {org_ref!r}") from None
        task = progress.add_task("exporting", total=await export.member_count(database, org))
        written = 0
        async for members in export.member_pages(database, settings, org):
            out.write(export.encoded(export_format, members, header=written == 0))
            written += len(members)
            progress.update(task, completed=written)
        if written == 0 and export_format == "csv":
            out.write(export.encoded("csv", [], header=True))
        progress.update(task, total=written, completed=written)
        return written
    finally:
        await database.dispose()


def export_users(
    org: Annotated[str, typer.Option("--org", help="Slug or id of the organization.")],
    export_format: Annotated[
        export.ExportFormat, typer.Option("--format", help="csv (re-importable with `users import`) or jsonl.")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", dir_okay=False, help="The file to write; default standard output.")
    ] = None,
) -> None:
    """Export every member with roles and status (never a credential); CSV re-imports losslessly."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    try:
        # newline="": the CSV rows end in CRLF themselves (RFC 4180); JSON lines in LF.
        with output.open("w", newline="", encoding="utf-8") if output else nullcontext(sys.stdout) as out, progress:
            written = asyncio.run(run_export(get_settings(), org, export_format, out, progress))
    except TenantryError as error:
        err.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(1) from None
    err.print(f"{written} member(s) exported" + (f" to [bold]{output}[/bold]" if output else ""))
