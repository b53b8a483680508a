"""eva's bulk operations: create from a CSV upload, delete many, grant or revoke environments for many.

Each user is all or nothing (a savepoint per user) and gets its own result; the answer is 200 when at
least one user was changed and 422 when none was, with the same body.
"""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.routing import UnitOfWorkRoute
from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.imports.eva import EvaFormat
from tenantry.core.imports.importer import Importer
from tenantry.core.imports.records import csv_safe
from tenantry.core.imports.rows import Outcome
from tenantry.core.imports.units import RequestSession
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.resources import grants as scoped
from tenantry.core.resources.grants import Grant
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
from tenantry.runtime import Runtime, get_runtime, get_session

router = APIRouter(prefix="/eva-user/org/{orgUUID}/users", tags=["bulk"], route_class=UnitOfWorkRoute)
ORG = "orgUUID"
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
async def bulk_create(
    request: Request,
    access: OrgAccess = Depends(org_member(Policy("users:create", impersonation=False, partner=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
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
        units=RequestSession(session),
        on_outcome=failed.append,
        batch_size=settings.import_batch_size,
        max_bytes=settings.import_upload_max_bytes,
        max_rows=settings.import_upload_max_rows,
    )
    async for chunk in file_chunks(request, "file", settings.import_upload_max_bytes):
        await importer.feed(chunk)
    summary = await importer.finish()
    failures = [
        {csv_safe(outcome.email or f"line {outcome.line}"): csv_safe(outcome.reason)}
        for outcome in sorted(failed, key=lambda outcome: outcome.line)
    ]
    return _answer(["created"] * summary.created, failures, {})


async def _each(
    session: AsyncSession, access: OrgAccess, uuids: list[str], change: Callable[[Member], Awaitable[None]]
) -> tuple[list[str], list[dict[str, str]]]:
    """Apply ``change`` to every user in a savepoint of its own; the users changed and the reasons of the rest."""
    changed: list[str] = []
    failures: list[dict[str, str]] = []
    for uuid in dict.fromkeys(uuids):
        try:
            async with session.begin_nested():
                await change(await memberships.get(session, access.org, uuid))
        except TenantryError as error:
            failures.append({csv_safe(uuid): csv_safe(error.detail)})
        else:
            changed.append(uuid)
    return changed, failures


@router.delete("/bulk-delete", response_model=BulkDeleteResult, responses=errors(401, 403, 404, 422))
async def bulk_delete(
    payload: BulkDelete,
    access: OrgAccess = Depends(org_member(Policy("users:delete", impersonation=False, partner=True), path_param=ORG)),
    session: AsyncSession = Depends(get_session),
) -> JSONResponse:
    """Remove many users from the organization; each is removed or reported."""

    async def remove(member: Member) -> None:
        await memberships.remove(session, access.actor, access.org, member)

    deleted, failures = await _each(session, access, payload.uuids, remove)
    return _answer(deleted, failures, {"deleted": deleted})


PERMISSIONS_POLICY = Policy("users:roles", impersonation=False, partner=True)


@router.post("/bulk-permissions", response_model=BulkPermissionsResult, responses=errors(401, 403, 404, 422))
async def grant_permissions(
    payload: BulkPermissions,
    access: OrgAccess = Depends(org_member(PERMISSIONS_POLICY, path_param=ORG)),
    session: AsyncSession = Depends(get_session),
) -> JSONResponse:
    """Grant the same environments (and bots) to many users; each keeps one role."""
    grants = await resolve_environments(session, access.org, payload.environments)
    role = payload.environments[0].role

    async def grant(member: Member) -> None:
        if is_admin(member):
            raise Conflict("the user is an ADMIN, who holds every environment")
        current = eva_role((await scoped.of_memberships(session, [member.membership.id]))[member.membership.id])
        if current not in (None, role):
            raise Conflict(f"a user may only have one role: the user is {current}")
        await scoped.change(session, access.actor, access.org, member, add=grants)

    updated, failures = await _each(session, access, payload.uuids, grant)
    return _answer(updated, failures, {"updated": updated})


@router.delete("/bulk-permissions", response_model=BulkPermissionsResult, responses=errors(401, 403, 404, 422))
async def revoke_permissions(
    payload: BulkPermissions,
    access: OrgAccess = Depends(org_member(PERMISSIONS_POLICY, path_param=ORG)),
    session: AsyncSession = Depends(get_session),
) -> JSONResponse:
    """Revoke the same environments (and bots) from many users."""
    grants: list[Grant] = await resolve_environments(session, access.org, payload.environments)

    async def revoke(member: Member) -> None:
        await scoped.change(session, access.actor, access.org, member, remove=grants)

    updated, failures = await _each(session, access, payload.uuids, revoke)
    return _answer(updated, failures, {"updated": updated})
