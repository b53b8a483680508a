"""Delivering one webhook message of the outbox: sign the event, send it, record the attempt, settle.

Retries back off exponentially from ``TENANTRY_OUTBOX_RETRY_BASE_SECONDS`` (with jitter: each delay
is drawn between half and all of its doubling) and stop one day after the event; a 2xx answer ends them.
"""

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry import __version__, metrics
from tenantry.core import secretbox
from tenantry.core.events.schemas import EventOut
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import OutboxMessage
from tenantry.core.webhooks import attempts
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.core.webhooks.secrets import signature
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime
from tenantry.settings import Settings
from tenantry.webhooks import sender

RETRY_WINDOW = timedelta(days=1)
MAX_DELAY = timedelta(hours=6)


@dataclass(frozen=True)
class _Prepared:
    url: str
    event_id: str
    body: bytes
    secrets: list[str]


def retry_at(message: OutboxMessage, base_seconds: float, now: datetime) -> datetime | None:
    """When to try again after the message's ``attempts``-th failure; None once a day has passed."""
    ceiling = min(base_seconds * 2 ** (message.attempts - 1), MAX_DELAY.total_seconds())
    at = now + timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))
    return at if at <= message.created_at + RETRY_WINDOW else None


def _signing_secrets(settings: Settings, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    found = [secretbox.open_sealed(settings, endpoint.secret).plaintext]
    if endpoint.previous_secret and endpoint.previous_expires_at and endpoint.previous_expires_at > now:
        found.append(secretbox.open_sealed(settings, endpoint.previous_secret).plaintext)
    return found


class WebhookDeliverer:
    def __init__(self, runtime: Runtime) -> None:
        self._database = runtime.database
        self._settings = runtime.settings
        self._templates = runtime.templates

    async def _prepare(self, message: OutboxMessage) -> _Prepared | None:
        async with self._database.transaction(write=False) as session:
            found = await attempts.target(session, message.payload["endpoint_id"], message.payload["event_id"])
            if found is None or not found[0].enabled:
                return None
            endpoint, event = found
            body = EventOut.of(event).model_dump_json().encode()
            return _Prepared(endpoint.url, event.id, body, _signing_secrets(self._settings, endpoint, utcnow()))

    async def deliver(self, message: OutboxMessage) -> None:
        prepared = await self._prepare(message)
        if prepared is None:
            async with self._database.transaction() as session:
                await outbox.reschedule(session, message, "the webhook or its event is gone or disabled", None)
            return
        timestamp = int(time.time())
        signatures = [signature(secret, prepared.event_id, timestamp, prepared.body) for secret in prepared.secrets]
        headers = {
            "content-type": "application/json",
            "user-agent": f"Tenantry-Webhooks/{__version__}",
            "webhook-id": prepared.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signatures),
        }
        settings = self._settings
        outcome = await sender.post(
            prepared.url,
            prepared.body,
            headers,
            allow_private=settings.webhook_allow_private_urls,
            seconds=settings.webhook_timeout_seconds,
        )
        result = "succeeded" if outcome.succeeded else "refused" if outcome.refused else "failed"
        metrics.WEBHOOK_DELIVERIES.labels(result=result).inc()
        now = utcnow()
        async with self._database.transaction() as session:
            endpoint_id = message.payload["endpoint_id"]
            await attempts.settle(session, self._templates, endpoint_id, prepared.event_id, outcome, now)
            if outcome.succeeded:
                await outbox.mark_sent(session, message.id)
            else:
                next_at = retry_at(message, settings.outbox_retry_base_seconds, now)
                await outbox.reschedule(session, message, outcome.error or "failed", next_at)
