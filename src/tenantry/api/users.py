"""Users of an organization: the accounts and their memberships, seen from the organization."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import MemberFound, OrgAccess, Policy, Target, org_member, org_member_read
from tenantry.core.fields import StorableStr
from tenantry.core.memberships import service as memberships
from tenantry.core.users import export, service
from tenantry.core.users.schemas import PasswordSet, RolesUpdate, UserCreate, UserOut, UserPage, UserUpdate
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.web.headers import attachment
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.serialized import serialized
from tenantry.web.targets import member, org_target

router = APIRouter(prefix="/orgs/{org}/users", tags=["users"], route_class=UnitOfWorkRoute)

UserRef = Annotated[str, Path(alias="user", description="User id", max_length=64)]
SearchTerm = Annotated[
    StorableStr | None,
    Query(max_length=200, description="Case-insensitive partial match on email, first and last name."),
]
StatusFilter = Annotated[Literal["active", "disabled", "invited"] | None, Query()]
RoleFilter = Annotated[StorableStr | None, Query(max_length=64, description="Role name or id.")]


def target_user(policy: Policy) -> Callable[..., Awaitable[Target]]:
    """Dependency: check ``policy``, then find ``{user}`` among the organization's members (404 otherwise)."""
    return org_target(policy, member, ref=UserRef)


@router.get("", response_model=UserPage, responses=problems(401, 403, 404, 422))
async def list_users(
    access: OrgAccess = Depends(org_member(Policy("users:read", partner=True))),
    session: AsyncSession = Depends(get_session),
    q: SearchTerm = None,
    status: StatusFilter = None,
    role: RoleFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """List and search the organization's users, in id order, a page at a time."""
    items, after = await service.read_page(
        session, access.org, q=q or None, status=status, role=role or None, after=decode_cursor(cursor), limit=limit
    )
    return serialized({"items": items, "next_cursor": encode_cursor(after)})


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}, "application/jsonl": {}}, "description": "Every member, streamed."},
        **problems(401, 403, 404, 422),
    },
)
async def export_users(
    access: OrgAccess = Depends(org_member(Policy("users:read", partner=True))),
    runtime: Runtime = Depends(get_runtime),
    export_format: Annotated[
        export.ExportFormat | None, Query(alias="format", description="csv (the default) or jsonl.")
    ] = None,
    accept: Annotated[str, Header(include_in_schema=False)] = "",
) -> StreamingResponse:
    """Every member with roles and status, streamed as CSV (re-importable) or JSON lines."""
    chosen = export_format or ("jsonl" if "jsonl" in accept or "ndjson" in accept else "csv")
    return StreamingResponse(
        export.export_text(runtime.database, runtime.settings, access.org, chosen, access.actor),
        media_type=export.MEDIA_TYPES[chosen],
        headers=attachment(f"{access.org.slug}-users.{chosen}"),
    )


@router.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 404, 409, 422)
)
async def create_user(
    payload: UserCreate,
    access: OrgAccess = Depends(org_member(Policy("users:create", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> UserOut:
    """Create an account and make it a member; without a password the user is mailed an invitation."""
    member = await service.create(
        session, access.actor, access.org, payload, runtime.passwords, invite_with=runtime.flows
    )
    return service.member_out(member)


@router.get("/{user}", response_model=UserOut, responses=problems(401, 403, 404))
async def get_user(
    found: MemberFound = Depends(org_member_read(Policy("users:read", partner=True), ref=UserRef)),
) -> Response:
    """One user of the organization."""
    return serialized(service.member_fields(found.member))


@router.patch("/{user}", response_model=UserOut, responses=problems(401, 403, 404, 409, 422))
async def update_user(
    payload: UserUpdate,
    target: Target = Depends(target_user(Policy("users:update", partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Change a user's profile (email and verification only for accounts no other organization shares)."""
    await service.update(session, target.access.actor, target.access.org, target.member, payload)
    return service.member_out(target.member)


@router.delete("/{user}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409))
async def delete_user(
    target: Target = Depends(target_user(Policy("users:delete", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Remove the user from the organization; the account goes too when it belongs nowhere else."""
    await memberships.remove(session, target.access.actor, target.access.org, target.member)


@router.post("/{user}/disable", response_model=UserOut, responses=problems(401, 403, 404, 409))
async def disable_user(
    target: Target = Depends(target_user(Policy("users:disable", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Disable the user here (and the account, when it belongs nowhere else); effective on the next request."""
    await memberships.disable(session, target.access.actor, target.access.org, target.member)
    return service.member_out(target.member)


@router.post("/{user}/enable", response_model=UserOut, responses=problems(401, 403, 404))
async def enable_user(
    target: Target = Depends(target_user(Policy("users:disable", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Enable a disabled user again."""
    await memberships.enable(session, target.access.actor, target.access.org, target.member)
    return service.member_out(target.member)


@router.put("/{user}/roles", response_model=UserOut, responses=problems(401, 403, 404, 409, 422))
async def set_roles(
    payload: RolesUpdate,
    target: Target = Depends(target_user(Policy("users:roles", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    """Replace the roles the user holds here (names or ids); effective on the next request."""
    await memberships.set_roles(session, target.access.actor, target.access.org, target.member, payload.roles)
    return service.member_out(target.member)


@router.post("/{user}/password", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422))
async def set_password(
    payload: PasswordSet,
    target: Target = Depends(target_user(Policy("users:set_password", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> None:
    """Set the user's password, optionally requiring a change at next login; their sessions end."""
    access = target.access
    await service.set_password(session, access.actor, access.org, target.member, payload, runtime.passwords)
