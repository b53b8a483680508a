"""eva's configurations: the caller's JSON settings, organization-wide or for one bot."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, org_member
from tenantry.core.configurations import service as configurations
from tenantry.core.configurations.models import Configuration
from tenantry.core.resources.models import Resource
from tenantry.dialects.eva.errors import errors
from tenantry.dialects.eva.schemas import ConfigurationIn, ConfigurationOut
from tenantry.dialects.eva.translate import timestamp, uuid_of
from tenantry.errors import NotFound
from tenantry.runtime import DbSession
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(
    prefix="/eva-user/org/{orgUUID}/configurations", tags=["configurations"], route_class=UnitOfWorkRoute
)
caller = org_member(Policy(users_only=True), path_param="orgUUID")
BotUuid = Annotated[str, Path(alias="botUUID", max_length=200, description="The bot's uuid")]


async def _bot(session: AsyncSession, access: OrgAccess, ref: str | None) -> Resource | None:
    return await configurations.usable_bot(session, access.actor, access.org, ref) if ref is not None else None


def _out(configuration: Configuration, bot: Resource | None) -> ConfigurationOut:
    return ConfigurationOut(
        uuid=configuration.id,
        orgUUID=configuration.org_id,
        userUUID=configuration.user_id,
        botUUID=uuid_of(bot) if bot is not None else None,
        configuration=configuration.document,
        createdAt=timestamp(configuration.created_at),
        updatedAt=timestamp(configuration.updated_at),
    )


async def _stored(session: AsyncSession, access: OrgAccess, bot: Resource | None) -> Configuration | None:
    return await configurations.get(session, access.org.id, access.actor.user_id or "", bot)


@router.post(
    "", response_model=ConfigurationOut, status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 422)
)
async def save_configuration(
    payload: ConfigurationIn, response: Response, session: DbSession, access: OrgAccess = Depends(caller)
) -> ConfigurationOut:
    """Store the caller's configuration (for ``botUUID`` when given); 201 when new, 200 when replaced."""
    bot = await _bot(session, access, payload.botUUID)
    stored, created = await configurations.put(
        session, access.actor, access.org, access.actor.user_id or "", bot, payload.configuration
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _out(stored, bot)


@router.get("", response_model=ConfigurationOut, responses=errors(401, 403, 404))
async def get_configuration(session: DbSession, access: OrgAccess = Depends(caller)) -> ConfigurationOut:
    """The caller's organization-wide configuration."""
    stored = await _stored(session, access, None)
    if stored is None:
        raise NotFound("no configuration stored")
    return _out(stored, None)


@router.get("/userHasConf", response_model=bool, responses=errors(401, 403, 404))
async def has_configuration(session: DbSession, access: OrgAccess = Depends(caller)) -> bool:
    """Whether the caller has an organization-wide configuration."""
    return await _stored(session, access, None) is not None


@router.get("/{botUUID}", response_model=ConfigurationOut, responses=errors(401, 403, 404))
async def get_bot_configuration(
    bot_uuid: BotUuid, session: DbSession, access: OrgAccess = Depends(caller)
) -> ConfigurationOut:
    """The caller's configuration for one bot."""
    bot = await _bot(session, access, bot_uuid)
    stored = await _stored(session, access, bot)
    if stored is None:
        raise NotFound(f"no configuration stored for bot {bot_uuid}")
    return _out(stored, bot)


@router.get("/{botUUID}/userHasConf", response_model=bool, responses=errors(401, 403, 404))
async def has_bot_configuration(bot_uuid: BotUuid, session: DbSession, access: OrgAccess = Depends(caller)) -> bool:
    """Whether the caller has a configuration for one bot."""
    return await _stored(session, access, await _bot(session, access, bot_uuid)) is not None
