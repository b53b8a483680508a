"""Webhook endpoints of an organization (or of the platform: ``org_id`` None), their secrets and attempts."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core import secretbox
from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import OutboxMessage
from tenantry.core.webhooks.models import WebhookDelivery, WebhookEndpoint
from tenantry.core.webhooks.schemas import WebhookCreate, WebhookUpdate
from tenantry.core.webhooks.secrets import new_secret
from tenantry.core.webhooks.urls import check_url
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, FieldError, InvalidInput, NotFound
from tenantry.i18n import N_
from tenantry.settings import Settings

WEBHOOK = "webhook"
"""Outbox kind: deliver event ``payload["event_id"]`` to endpoint ``payload["endpoint_id"]``."""
ROTATION_GRACE = timedelta(hours=24)
"""How long the previous secret still signs after a rotation."""
AT_THE_CAP = N_("the organization has reached its limit of webhooks")
"""Why a new endpoint is refused to an organization that has ``TENANTRY_WEBHOOKS_PER_ORG`` already."""


@dataclass(frozen=True)
class Owner:
    """Whose endpoints: an organization's, or the platform's (``org_id`` None)."""

    org_id: str | None
    allow_private_urls: bool = False

    def where(self) -> object:
        column = WebhookEndpoint.org_id
        return column.is_(None) if self.org_id is None else column == self.org_id


def audit(
    session: AsyncSession, actor: Actor, action: str, endpoint: WebhookEndpoint, details: dict[str, str] | None = None
) -> None:
    """Record a change to ``endpoint`` in its organization's audit log (the platform's for a platform endpoint)."""
    record(
        session, actor, action, org_id=endpoint.org_id, target_type="webhook", target_id=endpoint.id, details=details
    )


async def create(
    session: AsyncSession, actor: Actor, settings: Settings, owner: Owner, payload: WebhookCreate
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (answered once, kept only encrypted)."""
    if owner.org_id is not None:
        await _check_room(session, owner.org_id, settings.webhooks_per_org)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        org_id=owner.org_id,
        url=check_url(payload.url, allow_private=owner.allow_private_urls),
        event_types=payload.events,
        description=payload.description,
        enabled=payload.enabled,
        secret=secretbox.seal(settings, secret),
    )
    session.add(endpoint)
    await session.flush()
    audit(session, actor, "webhook.created", endpoint)
    return endpoint, secret


async def _check_room(session: AsyncSession, org_id: str, cap: int) -> None:
    """Refuse a new endpoint to an organization that has ``TENANTRY_WEBHOOKS_PER_ORG`` already: each one is read
    for every batch of its events, and delivered to in the organization's lanes."""
    count = await session.scalar(select(func.count()).where(WebhookEndpoint.org_id == org_id))
    if (count or 0) >= cap:
        message = f"{AT_THE_CAP}: at most {cap} webhooks per organization; delete one first"
        raise InvalidInput([FieldError("webhooks", message)])


async def page(session: AsyncSession, owner: Owner, *, after: str | None, limit: int) -> list[WebhookEndpoint]:
    statement = select(WebhookEndpoint).where(owner.where())  # type: ignore[arg-type]
    if after is not None:
        statement = statement.where(WebhookEndpoint.id > after)
    return list(await session.scalars(statement.order_by(WebhookEndpoint.id).limit(limit)))


async def get(session: AsyncSession, owner: Owner, webhook_id: str) -> WebhookEndpoint:
    statement = select(WebhookEndpoint).where(owner.where(), WebhookEndpoint.id == webhook_id)  # type: ignore[arg-type]
    endpoint = await session.scalar(statement)
    if endpoint is None:
        raise NotFound("webhook not found")
    return endpoint


async def update(
    session: AsyncSession, actor: Actor, owner: Owner, webhook_id: str, payload: WebhookUpdate
) -> WebhookEndpoint:
    endpoint = await get(session, owner, webhook_id)
    if payload.url is not None:
        endpoint.url = check_url(payload.url, allow_private=owner.allow_private_urls)
    if payload.events is not None:
        endpoint.event_types = payload.events
    if payload.description is not None:
        endpoint.description = payload.description
    if payload.enabled is not None:
        endpoint.enabled = payload.enabled
        if payload.enabled:
            endpoint.disabled_reason, endpoint.failing_since = None, None
    endpoint.updated_at = utcnow()
    await session.flush()
    audit(session, actor, "webhook.updated", endpoint)
    return endpoint


async def delete(session: AsyncSession, actor: Actor, owner: Owner, webhook_id: str) -> None:
    endpoint = await get(session, owner, webhook_id)
    audit(session, actor, "webhook.deleted", endpoint)
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, actor: Actor, settings: Settings, owner: Owner, webhook_id: str
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one keeps signing beside it for ``ROTATION_GRACE``."""
    endpoint = await get(session, owner, webhook_id)
    secret = new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secretbox.seal(settings, secret)
    endpoint.previous_expires_at = utcnow() + ROTATION_GRACE
    endpoint.updated_at = utcnow()
    await session.flush()
    audit(session, actor, "webhook.secret_rotated", endpoint)
    return endpoint, secret


async def reseal_all(session: AsyncSession, settings: Settings) -> int:
    """Seal every endpoint's signing secrets (current and rotated-out) with the current key; how many changed."""
    endpoints = list(await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
    changed = secretbox.reseal(settings, endpoints, "secret") + secretbox.reseal(settings, endpoints, "previous_secret")
    await session.flush()
    return changed


async def deliveries(
    session: AsyncSession, owner: Owner, webhook_id: str, *, after: str | None, limit: int
) -> list[WebhookDelivery]:
    """The endpoint's delivery attempts, newest first."""
    endpoint = await get(session, owner, webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if after is not None:
        anchor = select(WebhookDelivery.created_at).where(WebhookDelivery.id == after).scalar_subquery()
        statement = statement.where(
            or_(
                WebhookDelivery.created_at < anchor,
                and_(WebhookDelivery.created_at == anchor, WebhookDelivery.id < after),
            )
        )
    order = (WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    return list(await session.scalars(statement.order_by(*order).limit(limit)))


async def redeliver(session: AsyncSession, actor: Actor, owner: Owner, webhook_id: str, delivery_id: str) -> None:
    """Send the event of an earlier attempt to the endpoint again (a new delivery, with the same webhook-id)."""
    endpoint = await get(session, owner, webhook_id)
    attempt = await session.get(WebhookDelivery, delivery_id)
    if attempt is None or attempt.endpoint_id != endpoint.id:
        raise NotFound("delivery not found")
    if not endpoint.enabled:
        raise Conflict("the webhook is disabled: enable it first")
    enqueue(session, endpoint, attempt.event_id)
    audit(session, actor, "webhook.redelivered", endpoint)


def enqueue(session: AsyncSession, endpoint: WebhookEndpoint, event_id: str) -> None:
    payload = {"endpoint_id": endpoint.id, "event_id": event_id}
    outbox.enqueue(session, WEBHOOK, payload, org_id=endpoint.org_id, webhook_endpoint_id=endpoint.id)


DELIVERIES: outbox.Lane = (OutboxMessage.kind == WEBHOOK,)
"""The outbox's webhook messages (``ix_outbox_messages_kind_due``): whether any is due."""


def deliveries_to(endpoint_id: str) -> outbox.Lane:
    """The outbox's webhook messages to one endpoint (``ix_outbox_messages_endpoint_due``): a lane's claim."""
    return (OutboxMessage.webhook_endpoint_id == endpoint_id,)
