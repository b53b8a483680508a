"""eva's bulk operations: create from a CSV upload, delete many, grant or revoke environments for many.

Each user is all or nothing (a savepoint per user) and gets its own result; the answer is 200 when at
least one user was changed and 422 when none was, with the same body. The work is committed in bounded
batches, each its own short transaction (``batched``: the request's own session only reads), so that no
request holds SQLite's write lock for long; a process that dies midway leaves the earlier batches done.
"""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.imports.eva import EvaFormat
from tenantry.core.imports.importer import Importer
from tenantry.core.imports.records import csv_safe
from tenantry.core.imports.rows import Outcome
from tenantry.core.imports.spool import spooled
from tenantry.core.imports.units import OwnTransactions
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.resources import grants as scoped
from tenantry.core.resources.grants import Grant
from tenantry.db.engine import Database
from tenantry.dialects.eva.errors import errors
from tenantry.dialects.eva.schemas import (
    BulkCreateResult,
    BulkDelete,
    BulkDeleteResult,
    BulkPermissions,
    BulkPermissionsResult,
)
from tenantry.dialects.eva.translate import eva_role, is_admin, resolve_environments
from tenantry.dialects.eva.upload import file_chunks
from tenantry.errors import Conflict, TenantryError
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.routing import UnitOfWorkRoute, batched

router = APIRouter(prefix="/eva-user/org/{orgUUID}/users", tags=["bulk"], route_class=UnitOfWorkRoute)
ORG = "orgUUID"
_BATCH = 50
"""Users changed per transaction by bulk-delete and bulk-permissions."""
_MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "The CSV file."}},
                }
            }
        },
    }
}


def _answer(changed: list[str], failures: list[dict[str, str]], body: dict[str, object]) -> JSONResponse:
    return JSONResponse({**body, "errors": failures}, status_code=200 if changed else 422)


@router.post(
    "/bulk-create",
    response_model=BulkCreateResult,
    responses={**errors(401, 403, 404, 413), 422: {"model": BulkCreateResult, "description": "No user was created"}},
    openapi_extra=_MULTIPART_BODY,
)
@batched
async def bulk_create(
    request: Request,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_member(Policy("users:create", impersonation=False, partner=True), path_param=ORG)),
) -> JSONResponse:
    """Create users from a CSV file (`email;name;company;role;password;environmentUuid;environmentName;bot`)."""
    settings = runtime.settings
    failed: list[Outcome] = []
    importer = Importer(
        org=access.org,
        actor=access.actor,
        format=EvaFormat(),
        passwords=runtime.passwords,
        consent_with=runtime.flows,
        units=OwnTransactions(runtime.database),
        settings=settings,
        on_outcome=failed.append,
        batch_size=settings.import_batch_size,
    )
    max_bytes, max_rows = settings.import_upload_max_bytes, settings.import_upload_max_rows
    upload = file_chunks(request, "file", max_bytes)
    async with spooled(upload, importer.format, max_bytes=max_bytes, max_rows=max_rows) as chunks:
        for chunk in chunks:
            await importer.feed(chunk)
        summary = await importer.finish()
    failures = [
        {csv_safe(outcome.email or f"line {outcome.line}"): csv_safe(outcome.reason)}
        for outcome in sorted(failed, key=lambda outcome: outcome.line)
    ]
    return _answer(["created"] * summary.created, failures, {})


Change = Callable[[AsyncSession, Member], Awaitable[None]]


async def _each(
    database: Database, access: OrgAccess, uuids: list[str], change: Change
) -> tuple[list[str], list[dict[str, str]]]:
    """Apply ``change`` to every user in a savepoint of its own, committing every ``_BATCH`` users (so the
    write lock is held for a short while at a time); the users changed and the reasons of the rest. Each batch
    holds its users first, in the order of their ids (``memberships.lock_members``), not in the request's."""
    changed: list[str] = []
    failures: list[dict[str, str]] = []
    unique = list(dict.fromkeys(uuids))
    for start in range(0, len(unique), _BATCH):
        async with database.transaction(write=True) as session:
            await memberships.lock_members(session, access.org, unique[start : start + _BATCH])
            for uuid in unique[start : start + _BATCH]:
                try:
                    async with session.begin_nested():
                        await change(session, await memberships.target(session, access.org, uuid))
                except TenantryError as error:
                    failures.append({csv_safe(uuid): csv_safe(error.detail)})
                else:
                    changed.append(uuid)
    return changed, failures


@router.delete("/bulk-delete", response_model=BulkDeleteResult, responses=errors(401, 403, 404, 422))
@batched
async def bulk_delete(
    payload: BulkDelete,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_member(Policy("users:delete", impersonation=False, partner=True), path_param=ORG)),
) -> JSONResponse:
    """Remove many users from the organization; each is removed or reported."""

    async def remove(session: AsyncSession, member: Member) -> None:
        await memberships.remove(session, access.actor, access.org, member)

    deleted, failures = await _each(runtime.database, access, payload.uuids, remove)
    return _answer(deleted, failures, {"deleted": deleted})


PERMISSIONS_POLICY = Policy("users:roles", impersonation=False, partner=True)


@router.post("/bulk-permissions", response_model=BulkPermissionsResult, responses=errors(401, 403, 404, 422))
@batched
async def grant_permissions(
    payload: BulkPermissions,
    session: DbSession,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_member(PERMISSIONS_POLICY, path_param=ORG)),
) -> JSONResponse:
    """Grant the same environments (and bots) to many users; each keeps one role."""
    grants = await resolve_environments(session, access.org, payload.environments)
    role = payload.environments[0].role

    async def grant(batch: AsyncSession, member: Member) -> None:
        if is_admin(member):
            raise Conflict("the user is an ADMIN, who holds every environment")
        current = eva_role((await scoped.of_memberships(batch, [member.membership.id]))[member.membership.id])
        if current not in (None, role):
            raise Conflict(f"a user may only have one role: the user is {current}")
        await scoped.change(batch, access.actor, access.org, member, add=grants)

    updated, failures = await _each(runtime.database, access, payload.uuids, grant)
    return _answer(updated, failures, {"updated": updated})


@router.delete("/bulk-permissions", response_model=BulkPermissionsResult, responses=errors(401, 403, 404, 422))
@batched
async def revoke_permissions(
    payload: BulkPermissions,
    session: DbSession,
    runtime: AppRuntime,
    access: OrgAccess = Depends(org_member(PERMISSIONS_POLICY, path_param=ORG)),
) -> JSONResponse:
    """Revoke the same environments (and bots) from many users."""
    grants: list[Grant] = await resolve_environments(session, access.org, payload.environments)

    async def revoke(batch: AsyncSession, member: Member) -> None:
        await scoped.change(batch, access.actor, access.org, member, remove=grants)

    updated, failures = await _each(runtime.database, access, payload.uuids, revoke)
    return _answer(updated, failures, {"updated": updated})
