"""OAuth 2.0 / OpenID Connect clients: the platform's (platform admins) and each organization's own."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import OrgAccess, Policy, caller, org_member
from tenantry.core.actor import Actor
from tenantry.core.clients import service
from tenantry.core.clients.schemas import (
    ClientCreate,
    ClientCreated,
    ClientOut,
    ClientPage,
    ClientUpdate,
    SecretRotated,
)
from tenantry.core.orgs.models import Organization
from tenantry.runtime import AppRuntime, DbSession, Runtime
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.uncached import HANDS_OUT_A_SECRET

router = APIRouter(tags=["clients"], route_class=UnitOfWorkRoute)
ClientId = Annotated[str, Path(description="The client's client_id", max_length=64)]
PlatformAdmin = Annotated[Actor, Depends(caller(Policy(platform_admin=True, impersonation=False, users_only=True)))]
OrgAdmin = Annotated[OrgAccess, Depends(org_member(Policy("clients:write", impersonation=False)))]
_RESPONSES = problems(401, 403, 404, 422)
# The platform's and the organizations' routes answering with a secret, which is never cached.
_CREATED: dict[str, Any] = {
    "response_model": ClientCreated,
    "status_code": status.HTTP_201_CREATED,
    "responses": _RESPONSES,
    "dependencies": [HANDS_OUT_A_SECRET],
}
_ROTATED: dict[str, Any] = {
    "response_model": SecretRotated,
    "responses": _RESPONSES,
    "dependencies": [HANDS_OUT_A_SECRET],
}


def _created(created: service.NewClient) -> ClientCreated:
    return ClientCreated(**service.client_out(created.client).model_dump(), client_secret=created.secret)


async def _rotate(
    session: AsyncSession, runtime: Runtime, actor: Actor, org: Organization | None, client_id: str
) -> SecretRotated:
    grace = timedelta(seconds=runtime.settings.client_secret_grace_seconds)
    secret, until = await service.rotate_secret(session, actor, org, client_id, grace)
    return SecretRotated(client_id=client_id, client_secret=secret, previous_secret_expires_at=until)


@router.post("/clients", **_CREATED)
async def create_platform_client(payload: ClientCreate, actor: PlatformAdmin, session: DbSession) -> ClientCreated:
    """Register a platform client (signs in users of every organization); a secret is in this answer only."""
    return _created(await service.create(session, actor, None, payload))


@router.get("/clients", response_model=ClientPage, responses=_RESPONSES)
async def list_platform_clients(
    _: PlatformAdmin, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> ClientPage:
    """The platform clients (never their secrets)."""
    clients, after = await service.page(session, None, after=decode_cursor(cursor), limit=limit)
    return ClientPage(items=[service.client_out(client) for client in clients], next_cursor=encode_cursor(after))


@router.get("/clients/{client_id}", response_model=ClientOut, responses=_RESPONSES)
async def get_platform_client(client_id: ClientId, _: PlatformAdmin, session: DbSession) -> ClientOut:
    """One platform client."""
    return service.client_out(await service.get(session, None, client_id))


@router.patch("/clients/{client_id}", response_model=ClientOut, responses=_RESPONSES)
async def update_platform_client(
    client_id: ClientId, payload: ClientUpdate, actor: PlatformAdmin, session: DbSession
) -> ClientOut:
    """Change a platform client's name, URIs, origins or grant types."""
    return service.client_out(await service.update_client(session, actor, None, client_id, payload))


@router.delete("/clients/{client_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_RESPONSES)
async def delete_platform_client(client_id: ClientId, actor: PlatformAdmin, session: DbSession) -> None:
    """Delete a platform client; its refresh tokens stop working."""
    await service.delete(session, actor, None, client_id)


@router.post("/clients/{client_id}/secret", **_ROTATED)
async def rotate_platform_client_secret(
    client_id: ClientId, actor: PlatformAdmin, session: DbSession, runtime: AppRuntime
) -> SecretRotated:
    """A new secret for a confidential platform client; the old ones keep working for the grace period."""
    return await _rotate(session, runtime, actor, None, client_id)


@router.post("/orgs/{org}/clients", **_CREATED)
async def create_org_client(payload: ClientCreate, access: OrgAdmin, session: DbSession) -> ClientCreated:
    """Register one of the organization's own clients (signs in its members only, with their consent)."""
    return _created(await service.create(session, access.actor, access.org, payload))


@router.get("/orgs/{org}/clients", response_model=ClientPage, responses=_RESPONSES)
async def list_org_clients(
    access: OrgAdmin, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> ClientPage:
    """The organization's own clients."""
    clients, after = await service.page(session, access.org, after=decode_cursor(cursor), limit=limit)
    return ClientPage(items=[service.client_out(client) for client in clients], next_cursor=encode_cursor(after))


@router.get("/orgs/{org}/clients/{client_id}", response_model=ClientOut, responses=_RESPONSES)
async def get_org_client(client_id: ClientId, access: OrgAdmin, session: DbSession) -> ClientOut:
    """One of the organization's clients."""
    return service.client_out(await service.get(session, access.org, client_id))


@router.patch("/orgs/{org}/clients/{client_id}", response_model=ClientOut, responses=_RESPONSES)
async def update_org_client(
    client_id: ClientId, payload: ClientUpdate, access: OrgAdmin, session: DbSession
) -> ClientOut:
    """Change one of the organization's clients."""
    return service.client_out(await service.update_client(session, access.actor, access.org, client_id, payload))


@router.delete("/orgs/{org}/clients/{client_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_RESPONSES)
async def delete_org_client(client_id: ClientId, access: OrgAdmin, session: DbSession) -> None:
    """Delete one of the organization's clients."""
    await service.delete(session, access.actor, access.org, client_id)


@router.post("/orgs/{org}/clients/{client_id}/secret", **_ROTATED)
async def rotate_org_client_secret(
    client_id: ClientId, access: OrgAdmin, session: DbSession, runtime: AppRuntime
) -> SecretRotated:
    """A new secret for one of the organization's confidential clients; the old ones keep working a while."""
    return await _rotate(session, runtime, access.actor, access.org, client_id)
