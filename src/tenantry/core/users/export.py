"""Every member of an organization, streamed as CSV or JSON lines a keyset page at a time (constant memory).

Each page is read in a short transaction of its own, so a slow reader holds no connection and no lock between
pages; a member added or removed while the export runs may or may not appear. An export outlives its request, so
each page first reads the caller's rights again (``core.access``), as an import's batches do: once the caller could
no longer read the members (a partner link revoked, a key revoked, the reader removed or demoted, the sign-in
session ended) the stream stops, cut short (``ExportStopped``), not ended as if it were whole.

The CSV has the columns of the native import format (plus ``status``), so ``tenantry users import`` reads it back
as it was; every cell is defused against formula injection with ``csv_safe``, which the importer undoes.
Credentials are never exported.
"""

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Literal

from tenantry.core import access
from tenantry.core.actor import SYSTEM, Actor
from tenantry.core.imports.records import csv_safe
from tenantry.core.memberships import directory
from tenantry.core.memberships.directory import MemberCriteria
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service
from tenantry.core.users.directory import READ_USERS
from tenantry.db.engine import Database
from tenantry.errors import NotFound, PermissionDenied, Unauthenticated
from tenantry.settings import Settings

ExportFormat = Literal["csv", "jsonl"]
CSV_COLUMNS = ("email", "first_name", "last_name", "roles", "email_verified", "status", "locale")
MEDIA_TYPES: dict[ExportFormat, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}
PAGE_SIZE = 500


class ExportStopped(Exception):
    """The caller may no longer read the members being exported: the rest is not sent. Raised mid-stream, it ends
    the response unfinished (no last chunk), so a client sees a failed download, not a shorter file."""


async def member_count(database: Database, org: Organization) -> int:
    """How many members an export of ``org`` would hold now (for a progress bar)."""
    async with database.transaction(write=False) as session:
        return await directory.count(session, org.id, MemberCriteria())


async def member_pages(
    database: Database, settings: Settings, org: Organization, actor: Actor = SYSTEM
) -> AsyncIterator[list[Member]]:
    """The organization's members in id order, one page (roles loaded) per read transaction, each read only while
    ``actor`` may still read them (``ExportStopped``)."""
    after: str | None = None
    while True:
        async with database.transaction(write=False) as session:
            try:
                reader = await access.actor_now(session, settings, actor, org)
            except (NotFound, PermissionDenied, Unauthenticated) as error:
                raise ExportStopped(str(error)) from None
            if not reader.holds({READ_USERS}):
                raise ExportStopped("the caller may no longer read this organization's users")
            members, after = await service.page(session, org, after=after, limit=PAGE_SIZE)
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


async def export_text(
    database: Database, settings: Settings, org: Organization, export_format: ExportFormat, actor: Actor
) -> AsyncIterator[str]:
    """The whole export for ``actor``, a page of text at a time; a CSV export of an organization without members is
    its header."""
    first = True
    async for members in member_pages(database, settings, org, actor):
        yield encoded(export_format, members, header=first)
        first = False
    if first and export_format == "csv":
        yield _csv_text([list(CSV_COLUMNS)])
