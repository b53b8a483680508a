"""``/{tenant}/apiKeys``: the tenant's API keys, sent back as ``X-TLM-Key: <key>``.

A key acts as the tenant's admin (the built-in admin role: telm documents no roles for keys, *inferred*).
The key itself is in the creation answer only; Tenantry keeps its hash.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from tenantry.auth.policy import OrgAccess, Policy
from tenantry.core.apikeys import schemas as core
from tenantry.core.apikeys import service
from tenantry.dialects.telm.access import ADMIN, tenant_access
from tenantry.dialects.telm.errors import Message, documented
from tenantry.dialects.telm.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.uncached import HANDS_OUT_A_SECRET

router = APIRouter(prefix="/api/auth/auth/{tenant}/apiKeys", tags=["api keys"], route_class=UnitOfWorkRoute)

KeyId = Annotated[str, Path(alias="id", max_length=64, description="API key id")]
KeyReader = Annotated[OrgAccess, Depends(tenant_access(Policy("api_keys:read")))]
KeyWriter = Annotated[OrgAccess, Depends(tenant_access(Policy("api_keys:write", impersonation=False)))]
_PAGE = 500


@router.get("", response_model=ApiKeyList, responses=documented(401, 403, 404, 422))
async def list_keys(access: KeyReader, session: DbSession) -> ApiKeyList:
    """List the tenant's API keys (never the keys themselves)"""
    found: list[ApiKeyOut] = []
    after: str | None = None
    while True:
        keys, after = await service.page(session, access.org, after=after, limit=_PAGE)
        found.extend(ApiKeyOut(id=key.id, name=key.name) for key in keys)
        if after is None:
            return ApiKeyList(keys=found)


@router.post(
    "", response_model=ApiKeyCreated, responses=documented(401, 403, 404, 422), dependencies=[HANDS_OUT_A_SECRET]
)
async def create_key(payload: ApiKeyCreate, access: KeyWriter, session: DbSession) -> ApiKeyCreated:
    """Create an API key; the key is in this answer only"""
    created = await service.create(
        session, access.actor, access.org, core.ApiKeyCreate(name=payload.name, roles=[ADMIN.name])
    )
    return ApiKeyCreated(id=created.api_key.id, name=created.api_key.name, key=created.key)


@router.get("/{id}", response_model=ApiKeyOut, responses=documented(401, 403, 404, 422))
async def get_key(key_id: KeyId, access: KeyReader, session: DbSession) -> ApiKeyOut:
    """One API key (never the key itself)"""
    api_key = await service.get(session, access.org, key_id)
    return ApiKeyOut(id=api_key.id, name=api_key.name)


@router.delete("/{id}", response_model=Message, responses=documented(401, 403, 404, 422))
async def delete_key(key_id: KeyId, access: KeyWriter, session: DbSession) -> Message:
    """Delete an API key; it is refused from the next request on"""
    await service.revoke(session, access.actor, access.org, key_id)
    return Message(message="API key was deleted successfully")
