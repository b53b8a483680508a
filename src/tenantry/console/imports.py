"""Import members from a CSV file (native or eva format) with a live progress bar, and export them.

The upload is read whole within the configured limits and its rows counted; the import then runs in the
background through the same ``Importer`` as the CLI and eva's bulk upload (its own short transactions, a
batch at a time), while the page polls its progress with htmx. An import's progress lives in the process
that runs it (``JOBS``): with several server processes, the page may answer 404 from another one until the
import is done; the members it created are stored either way.
"""

import asyncio
import csv
import io
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_error, translated
from tenantry.console.pages import Console, ConsoleRoute, console_access, is_htmx
from tenantry.core.imports.eva import EvaFormat
from tenantry.core.imports.importer import Importer, ImportFormat, Summary
from tenantry.core.imports.native import NativeFormat
from tenantry.core.imports.records import ImportLimitExceeded, csv_safe
from tenantry.core.imports.rows import Outcome
from tenantry.core.imports.spool import row_count
from tenantry.core.imports.units import OwnTransactions
from tenantry.core.orgs.models import Organization
from tenantry.core.users import export
from tenantry.errors import InvalidInput, NotFound, TenantryError
from tenantry.i18n import _
from tenantry.web.body_limit import upload_body
from tenantry.web.headers import attachment
from tenantry.web.routing import batched

log = structlog.get_logger("tenantry.console.imports")

router = APIRouter(prefix="/console/{org}", route_class=ConsoleRoute, include_in_schema=False)
KEPT_JOBS = 100
JobRef = Annotated[str, Path(max_length=64)]
_IMPORT = Policy("users:create", impersonation=False, partner=True)


@dataclass
class ImportJob:
    id: str
    org_id: str
    file_name: str
    rows: int
    summary: Summary = field(default_factory=Summary)
    failures: list[Outcome] = field(default_factory=list)
    done: bool = False
    error: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def settled(self) -> int:
        return min(self.summary.rows, self.rows)


JOBS: "OrderedDict[str, ImportJob]" = OrderedDict()


def _format(name: str, org: Organization) -> ImportFormat:
    return EvaFormat() if name == "eva" else NativeFormat(org)


def _row_count(data: bytes, name: str, org: Organization, max_bytes: int) -> int:
    """The file's rows (its header left out); ``InvalidInput`` for a header the format refuses or a row wider
    than it."""
    return row_count(data, _format(name, org), max_bytes=max_bytes)


async def _run(job: ImportJob, importer: Importer, data: bytes) -> None:
    try:
        await importer.feed(data)
        job.summary = await importer.finish()
        job.error = job.summary.stopped or None  # the caller's rights ended: the rows left are in the report
    except TenantryError as error:  # a refusal of ours: its words are meant for the page
        job.error = str(error.detail or error) or type(error).__name__
    except Exception:  # a failed import says so on its page instead of vanishing, without a driver's words
        log.exception("import.failed", org_id=job.org_id)
        job.error = _("Something went wrong")
    finally:
        job.done = True


def _job(console: Console, job_id: str) -> ImportJob:
    found = JOBS.get(job_id)
    if found is None or found.org_id != console.org.id:
        raise NotFound("no such import")
    return found


@router.get("/import")
async def import_page(console: Console = Depends(console_access(_IMPORT))) -> Response:
    """Upload a CSV file of members (native or eva format); export them as CSV."""
    return console.render("import.html", {"invite": True})


@router.post("/import", dependencies=[Depends(upload_body)])  # route dependencies run first: before the form is read
@batched
async def start_import(console: Console = Depends(console_access(_IMPORT))) -> Response:
    """Start importing the uploaded file; its page shows the progress, then the summary."""
    form = await console.form()
    runtime = console.runtime
    upload, chosen = form.get("file"), form.get("format")
    format_name = "eva" if chosen == "eva" else "native"
    invite = form.get("invite") == "on"  # the page's box, ticked by default: as the CLI's --invite
    settings = runtime.settings
    errors: dict[str, str] = {}
    data = b""
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = field_error("file", _("choose a CSV file to import"))
    else:
        data = await upload.read(settings.import_upload_max_bytes + 1)
        try:
            rows = _row_count(data, format_name, console.org, settings.import_upload_max_bytes)
            if rows > settings.import_upload_max_rows:
                limit = {"rows": settings.import_upload_max_rows}
                raise ImportLimitExceeded(_("the file has more than %(rows)s rows") % limit)
        except (ImportLimitExceeded, InvalidInput) as error:
            detail = "; ".join(e.message for e in error.errors) if isinstance(error, InvalidInput) else str(error)
            errors["file"] = field_error("file", translated(detail))
    if errors:
        return console.render("import.html", {"errors": errors, "invite": invite}, 400)
    assert isinstance(upload, UploadFile)
    job = ImportJob(secrets.token_hex(12), console.org.id, (upload.filename or "")[:200], rows)
    importer = Importer(
        org=console.org,
        actor=console.access.actor,
        format=_format(format_name, console.org),
        passwords=runtime.passwords,
        units=OwnTransactions(runtime.database),
        settings=settings,
        on_outcome=job.failures.append,
        on_batch=lambda summary: setattr(job, "summary", summary),
        invite_with=runtime.flows if invite and format_name == "native" else None,
        consent_with=runtime.flows,
        batch_size=min(settings.import_batch_size, 100),
    )
    job.task = asyncio.create_task(_run(job, importer, data))
    JOBS[job.id] = job
    while len(JOBS) > KEPT_JOBS:
        JOBS.popitem(last=False)
    return console.go(f"/console/{console.org.slug}/import/{job.id}")


@router.get("/import/{job}")
async def import_job(job: JobRef, console: Console = Depends(console_access(_IMPORT))) -> Response:
    """An import's progress (htmx polls it while it runs), then its summary and error report."""
    found = _job(console, job)
    template = "import_progress.html" if is_htmx(console.request) else "import_job.html"
    return console.render(template, {"job": found})


@router.get("/import/{job}/errors.csv")
async def import_errors(job: JobRef, console: Console = Depends(console_access(_IMPORT))) -> Response:
    """The rows an import did not create, with the reason, as CSV."""
    found = _job(console, job)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["line", "email", "reason"])
    for outcome in sorted(found.failures, key=lambda outcome: outcome.line):
        writer.writerow([outcome.line, csv_safe(outcome.email), csv_safe(outcome.reason)])
    headers = attachment(f"{console.org.slug}-import-errors.csv")
    return Response(text.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/export.csv")
async def export_members(
    console: Console = Depends(console_access(Policy("users:read", partner=True))),
) -> StreamingResponse:
    """Every member with roles and status, as CSV (re-importable)."""
    return StreamingResponse(
        export.export_text(
            console.runtime.database, console.runtime.settings, console.org, "csv", console.access.actor
        ),
        media_type=export.MEDIA_TYPES["csv"],
        headers=attachment(f"{console.org.slug}-users.csv"),
    )
