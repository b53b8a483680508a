"""Webhook endpoints: an organization's (`webhooks:write`) and the platform's (platform admins)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from tenantry.api.errors import problems
from tenantry.api.pagination import Cursor, Limit, decode_cursor, encode_cursor
from tenantry.auth.policy import OrgAccess, Policy, caller, org_member
from tenantry.core.actor import Actor
from tenantry.core.webhooks import service
from tenantry.core.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookUpdate,
    WebhookWithSecret,
)
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.routing import UnitOfWorkRoute
from tenantry.web.uncached import HANDS_OUT_A_SECRET

WebhookId = Annotated[str, Path(description="Webhook id", max_length=64)]
DeliveryId = Annotated[str, Path(description="Delivery attempt id", max_length=64)]
Caller = tuple[Actor, service.Owner]


def _org_caller(policy: Policy) -> Callable[..., Awaitable[Caller]]:
    async def dependency(runtime: AppRuntime, access: OrgAccess = Depends(org_member(policy))) -> Caller:
        return access.actor, service.Owner(access.org.id, runtime.settings.webhook_allow_private_urls)

    return dependency


def _platform_caller(policy: Policy) -> Callable[..., Awaitable[Caller]]:
    async def dependency(runtime: AppRuntime, actor: Actor = Depends(caller(policy))) -> Caller:
        return actor, service.Owner(None, runtime.settings.webhook_allow_private_urls)

    return dependency


def _router(
    prefix: str, reading: Callable[..., Awaitable[Caller]], writing: Callable[..., Awaitable[Caller]]
) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["webhooks"], route_class=UnitOfWorkRoute)
    errors = problems(401, 403, 404, 422)

    @router.post(
        "",
        response_model=WebhookWithSecret,
        status_code=status.HTTP_201_CREATED,
        responses=problems(401, 403, 404, 409, 422),
        dependencies=[HANDS_OUT_A_SECRET],
    )
    async def create_webhook(
        payload: WebhookCreate, session: DbSession, runtime: AppRuntime, who: Caller = Depends(writing)
    ) -> WebhookWithSecret:
        """Create a webhook; its signing secret is in this answer only."""
        endpoint, secret = await service.create(session, who[0], runtime.settings, who[1], payload)
        return WebhookWithSecret(**WebhookOut.model_validate(endpoint).model_dump(), secret=secret)

    @router.get("", response_model=WebhookPage, responses=errors)
    async def list_webhooks(
        session: DbSession, who: Caller = Depends(reading), limit: Limit = 50, cursor: Cursor = None
    ) -> WebhookPage:
        """The webhooks, in id order (never their secrets)."""
        found = await service.page(session, who[1], after=decode_cursor(cursor), limit=limit + 1)
        after = found[limit - 1].id if len(found) > limit else None
        return WebhookPage(
            items=[WebhookOut.model_validate(e) for e in found[:limit]], next_cursor=encode_cursor(after)
        )

    @router.get("/{webhook}", response_model=WebhookOut, responses=errors)
    async def get_webhook(webhook: WebhookId, session: DbSession, who: Caller = Depends(reading)) -> WebhookOut:
        """One webhook (never its secret)."""
        return WebhookOut.model_validate(await service.get(session, who[1], webhook))

    @router.patch("/{webhook}", response_model=WebhookOut, responses=errors)
    async def update_webhook(
        webhook: WebhookId, payload: WebhookUpdate, session: DbSession, who: Caller = Depends(writing)
    ) -> WebhookOut:
        """Change a webhook's URL, events, description, or enable or disable it."""
        return WebhookOut.model_validate(await service.update(session, who[0], who[1], webhook, payload))

    @router.delete("/{webhook}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404))
    async def delete_webhook(webhook: WebhookId, session: DbSession, who: Caller = Depends(writing)) -> None:
        """Delete a webhook; deliveries waiting for it are dropped."""
        await service.delete(session, who[0], who[1], webhook)

    @router.post(
        "/{webhook}/rotate-secret",
        response_model=WebhookWithSecret,
        responses=problems(401, 403, 404, 409),
        dependencies=[HANDS_OUT_A_SECRET],
    )
    async def rotate_secret(
        webhook: WebhookId, session: DbSession, runtime: AppRuntime, who: Caller = Depends(writing)
    ) -> WebhookWithSecret:
        """A new signing secret, in this answer only; the old one also signs for 24 hours."""
        endpoint, secret = await service.rotate_secret(session, who[0], runtime.settings, who[1], webhook)
        return WebhookWithSecret(**WebhookOut.model_validate(endpoint).model_dump(), secret=secret)

    @router.get("/{webhook}/deliveries", response_model=DeliveryPage, responses=errors)
    async def list_deliveries(
        webhook: WebhookId, session: DbSession, who: Caller = Depends(reading), limit: Limit = 50, cursor: Cursor = None
    ) -> DeliveryPage:
        """The webhook's delivery attempts, newest first: status, latency, response code, error."""
        found = await service.deliveries(session, who[1], webhook, after=decode_cursor(cursor), limit=limit + 1)
        after = found[limit - 1].id if len(found) > limit else None
        items = [DeliveryOut.model_validate(attempt) for attempt in found[:limit]]
        return DeliveryPage(items=items, next_cursor=encode_cursor(after))

    @router.post(
        "/{webhook}/deliveries/{delivery}/redeliver",
        status_code=status.HTTP_202_ACCEPTED,
        responses=problems(401, 403, 404, 409),
    )
    async def redeliver(
        webhook: WebhookId, delivery: DeliveryId, session: DbSession, who: Caller = Depends(writing)
    ) -> None:
        """Send the event of this attempt to the webhook again (same `webhook-id`), from the outbox."""
        await service.redeliver(session, who[0], who[1], webhook, delivery)

    return router


org_router = _router(
    "/orgs/{org}/webhooks",
    _org_caller(Policy("webhooks:write")),
    _org_caller(Policy("webhooks:write", impersonation=False)),
)
platform_router = _router(
    "/webhooks",
    _platform_caller(Policy(platform_admin=True)),
    _platform_caller(Policy(platform_admin=True, impersonation=False)),
)
