"""Organization API keys."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.apikeys import service
from tenantry.core.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.uncached import HANDS_OUT_A_SECRET

router = APIRouter(prefix="/orgs/{org}/api-keys", tags=["api keys"], route_class=UnitOfWorkRoute)
KeyWriter = Annotated[OrgAccess, Depends(org_member(Policy("api_keys:write", impersonation=False)))]


@router.get("", response_model=ApiKeyPage, responses=problems(401, 403, 404, 422))
async def list_keys(
    session: DbSession,
    access: OrgAccess = Depends(org_member(Policy("api_keys:read"))),
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ApiKeyPage:
    """The organization's live API keys (never the keys themselves)."""
    keys, after = await service.page(session, access.org, after=decode_cursor(cursor), limit=limit)
    return ApiKeyPage(items=[service.key_out(key) for key in keys], next_cursor=encode_cursor(after))


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
    dependencies=[HANDS_OUT_A_SECRET],
)
async def create_key(payload: ApiKeyCreate, access: KeyWriter, session: DbSession) -> ApiKeyCreated:
    """Create an API key with the given roles; the key is in this answer only."""
    created = await service.create(session, access.actor, access.org, payload)
    return ApiKeyCreated(**service.key_out(created.api_key).model_dump(), key=created.key)


@router.delete("/{key}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404))
async def revoke_key(
    key: Annotated[str, Path(description="API key id", max_length=64)], access: KeyWriter, session: DbSession
) -> None:
    """Revoke an API key; it is refused from the next request on."""
    await service.revoke(session, access.actor, access.org, key)
