"""Every member of an organization, streamed as CSV or JSON lines a keyset page at a time (constant memory).

Each page is read in a short transaction of its own, so a slow reader holds no connection and no lock between
pages; a member added or removed while the export runs may or may not appear. The CSV has the columns of
the native import format (plus ``status``), so ``tenantry users import`` reads it back as it was; every
cell is defused against formula injection with ``csv_safe``, which the importer undoes. Credentials are
never exported.
"""

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Literal

from tenantry.core.imports.records import csv_safe
from tenantry.core.memberships import directory
from tenantry.core.memberships.directory import MemberCriteria
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service
from tenantry.db.engine import Database

ExportFormat = Literal["csv", "jsonl"]
CSV_COLUMNS = ("email", "first_name", "last_name", "roles", "email_verified", "status", "locale")
MEDIA_TYPES: dict[ExportFormat, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}
PAGE_SIZE = 500


async def member_count(database: Database, org: Organization) -> int:
    """How many members an export of ``org`` would hold now (for a progress bar)."""
    async with database.transaction(write=False) as session:
        return await directory.count(session, org.id, MemberCriteria())


async def member_pages(
    database: Database, org: Organization, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[Member]]:
    """The organization's members in id order, one page (roles loaded) per read transaction."""
    after: str | None = None
    while True:
        async with database.transaction(write=False) as session:
            members, after = await service.page(session, org, after=after, limit=page_size)
        if members:
            yield members
        if after is None:
            return


def csv_row(member: Member) -> list[str]:
    user = member.user
    status = service.displayed_status(user, member.membership)
    cells = [user.email, user.first_name, user.last_name, "|".join(role.name for role in member.roles)]
    verified = "true" if user.email_verified else "false"
    return [*(csv_safe(cell) for cell in cells), verified, status, csv_safe(user.locale or "")]


def _csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def encoded(export_format: ExportFormat, members: list[Member], *, header: bool) -> str:
    """One page of the export as text: CSV rows (after the header, when ``header``), or one JSON object a line."""
    if export_format == "jsonl":
        return "".join(service.member_out(member).model_dump_json() + "\n" for member in members)
    rows = [csv_row(member) for member in members]
    return _csv_text([list(CSV_COLUMNS), *rows] if header else rows)


async def export_text(database: Database, org: Organization, export_format: ExportFormat) -> AsyncIterator[str]:
    """The whole export, a page of text at a time; a CSV export of an organization without members is its header."""
    first = True
    async for members in member_pages(database, org):
        yield encoded(export_format, members, header=first)
        first = False
    if first and export_format == "csv":
        yield _csv_text([list(CSV_COLUMNS)])
