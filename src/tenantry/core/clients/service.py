"""Clients: registered by a platform admin (platform clients) or by an organization (its own tools).

A confidential client's secret is shown once and kept only as a SHA-256 (it is 256 random bits, so a
slow hash adds nothing); rotating it keeps the previous ones working for a grace period. Secrets are
compared in constant time.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.clients import grants
from tenantry.core.clients.models import CONFIDENTIAL, ClientSecret, OAuthClient
from tenantry.core.clients.schemas import CLIENT_CREDENTIALS, TOKEN_EXCHANGE, ClientCreate, ClientOut, ClientUpdate
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.roles import app_permissions
from tenantry.core.roles.permissions import PERMISSIONS
from tenantry.core.tokens.service import digest
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput, NotFound

SECRET_PREFIX = "tcs_"


@dataclass(frozen=True)
class NewClient:
    client: OAuthClient
    secret: str | None


def client_out(client: OAuthClient) -> ClientOut:
    return ClientOut(
        client_id=client.id,
        org_id=client.org_id,
        name=client.name,
        type=client.type,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        allowed_origins=list(client.allowed_origins),
        grant_types=list(client.grant_types),
        permissions=list(client.permissions) if client.permissions is not None else None,
        created_at=client.created_at,
        updated_at=client.updated_at,
    )


def grant_refused(client: OAuthClient, grant_type: str) -> str | None:
    """Why ``client`` may not use ``grant_type`` whatever it registered (None: it may); see ``_refusal``."""
    return _refusal(client.type, client.org_id, grant_type)


def _refusal(client_type: str, org_id: str | None, grant_type: str) -> str | None:
    """Grants for confidential clients only. client_credentials acts as a machine of an organization. Token
    exchange trades a bare access token for a new session with refresh tokens: RFC 8693 section 5 warns that
    without client authentication anyone holding a leaked token (a resource server, a log) could do so."""
    if grant_type == CLIENT_CREDENTIALS and (client_type != CONFIDENTIAL or org_id is None):
        return "client_credentials is for confidential clients owned by an organization (a machine of that org)"
    if grant_type == TOKEN_EXCHANGE and client_type != CONFIDENTIAL:
        return "token exchange is for confidential clients, which authenticate (RFC 8693 section 5)"
    return None


def _check_grant_types(client_type: str, org_id: str | None, grant_types: list[str]) -> None:
    refusals = [_refusal(client_type, org_id, grant_type) for grant_type in grant_types]
    if any(refusals):
        raise InvalidInput([FieldError("grant_types", reason) for reason in refusals if reason])


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def _known_permissions(session: AsyncSession, permissions: list[str] | None) -> list[str] | None:
    """The limit on what a client's tokens carry: permissions of the catalog (Tenantry's or registered)."""
    if permissions is None:
        return None
    registered = await app_permissions.registered(session, set(permissions) - PERMISSIONS.keys())
    unknown = [
        FieldError(f"permissions[{i}]", f"unknown permission {name!r}")
        for i, name in enumerate(permissions)
        if name not in PERMISSIONS and name not in registered
    ]
    if unknown:
        raise InvalidInput(unknown)
    return sorted(set(permissions))


async def _new_secret(session: AsyncSession, client: OAuthClient) -> str:
    secret = f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"
    session.add(ClientSecret(client_id=client.id, secret_hash=digest(secret)))
    await session.flush()
    return secret


def _org_id(org: Organization | None) -> str | None:
    return org.id if org is not None else None


async def create(session: AsyncSession, actor: Actor, org: Organization | None, payload: ClientCreate) -> NewClient:
    _check_grant_types(payload.type, _org_id(org), list(payload.grant_types))
    client = OAuthClient(
        org_id=_org_id(org),
        name=payload.name,
        type=payload.type,
        redirect_uris=_unique(payload.redirect_uris),
        post_logout_redirect_uris=_unique(payload.post_logout_redirect_uris),
        allowed_origins=_unique(payload.allowed_origins),
        grant_types=_unique(list(payload.grant_types)),
        permissions=await _known_permissions(session, payload.permissions),
        created_by=actor.user_id,
    )
    session.add(client)
    await session.flush()
    secret = await _new_secret(session, client) if client.type == CONFIDENTIAL else None
    record(session, actor, "client.created", org_id=client.org_id, target_type="client", target_id=client.id)
    return NewClient(client, secret)


async def page(
    session: AsyncSession, org: Organization | None, *, after: str | None, limit: int
) -> tuple[list[OAuthClient], str | None]:
    """The platform's clients (``org`` None) or the organization's own."""
    owner = OAuthClient.org_id.is_(None) if org is None else OAuthClient.org_id == org.id
    statement = select(OAuthClient).where(owner)
    if after:
        statement = statement.where(OAuthClient.id > after)
    rows = list(await session.scalars(statement.order_by(OAuthClient.id).limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


async def find(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """Any client by id (the OpenID provider's endpoints), or None."""
    if len(client_id) > 64:
        return None
    return await session.get(OAuthClient, client_id)


async def machine(session: AsyncSession, client_id: str, org_id: str | None) -> OAuthClient | None:
    """The client a client_credentials token of ``org_id`` was issued to, while its tokens still stand: the
    client exists, still belongs to that live organization and still has the grant; None otherwise."""
    client = await find(session, client_id)
    if client is None or client.org_id is None or client.org_id != org_id:
        return None
    if CLIENT_CREDENTIALS not in client.grant_types or await orgs.get_by_ref(session, client.org_id) is None:
        return None
    return client


async def get(session: AsyncSession, org: Organization | None, client_id: str) -> OAuthClient:
    """A platform client (``org`` None) or one of ``org``'s; 404 for anyone else's."""
    client = await find(session, client_id)
    if client is None or client.org_id != _org_id(org):
        raise NotFound("client not found")
    return client


async def update_client(
    session: AsyncSession, actor: Actor, org: Organization | None, client_id: str, payload: ClientUpdate
) -> OAuthClient:
    client = await get(session, org, client_id)
    changes = payload.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name != "permissions":
            raise InvalidInput([FieldError(name, "must not be null")])
    if "permissions" in changes:
        changes["permissions"] = await _known_permissions(session, changes["permissions"])
    _check_grant_types(client.type, client.org_id, list(changes.get("grant_types", client.grant_types)))
    for name, value in changes.items():
        setattr(client, name, _unique(value) if isinstance(value, list) else value)
    client.updated_at = utcnow()
    await session.flush()
    record(session, actor, "client.updated", org_id=client.org_id, target_type="client", target_id=client.id)
    return client


async def delete(session: AsyncSession, actor: Actor, org: Organization | None, client_id: str) -> None:
    """Delete a client: its secrets, codes and grants go with it, and every token session it started ends
    (its users' refresh and access tokens stop working)."""
    client = await get(session, org, client_id)
    await grants.end_client_sessions(session, client.id)
    await session.delete(client)
    await session.flush()
    record(session, actor, "client.deleted", org_id=client.org_id, target_type="client", target_id=client.id)


async def rotate_secret(
    session: AsyncSession, actor: Actor, org: Organization | None, client_id: str, grace: timedelta
) -> tuple[str, datetime | None]:
    """A new secret; the current ones keep working for ``grace`` (never longer than they already would)."""
    client = await get(session, org, client_id)
    if client.type != CONFIDENTIAL:
        raise InvalidInput([FieldError("client_id", "public clients have no secret")])
    until = utcnow() + grace
    await session.execute(
        update(ClientSecret)
        .where(ClientSecret.client_id == client.id)
        .where(or_(ClientSecret.expires_at.is_(None), ClientSecret.expires_at > until))
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    )
    secret = await _new_secret(session, client)
    record(session, actor, "client.secret_rotated", org_id=client.org_id, target_type="client", target_id=client.id)
    return secret, until


async def secret_matches(session: AsyncSession, client: OAuthClient, presented: str) -> bool:
    """Whether ``presented`` is one of the client's live secrets (every live secret compared, in constant time)."""
    statement = select(ClientSecret.secret_hash).where(
        ClientSecret.client_id == client.id, or_(ClientSecret.expires_at.is_(None), ClientSecret.expires_at > utcnow())
    )
    presented_hash = digest(presented)
    matched = False
    for stored in await session.scalars(statement):
        matched |= hmac.compare_digest(stored, presented_hash)
    return matched
