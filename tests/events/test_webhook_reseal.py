"""`tenantry keys reseal` seals webhook signing secrets (current and rotated-out) with the new key, and
deliveries still verify with the secrets the owner was given once the old key is gone."""

import asyncio

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from standardwebhooks import Webhook
from typer.testing import CliRunner

from tenantry.cli import app as cli
from tenantry.core import secretbox
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.runtime import Runtime
from tenantry.settings import get_settings
from tenantry.worker import OutboxWorker
from tests.events.conftest import SECRET_KEY, with_settings
from tests.factories import Tenant
from tests.mailbox import CollectingSink
from tests.webhook_receiver import webhook_receiver

NEW = "the key that replaces the webhook secrets' old one"


async def test_reseal_moves_webhook_secrets_to_the_new_key(
    hooks: httpx.AsyncClient, hooks_runtime: Runtime, tenant: Tenant, database_url: str
) -> None:
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "events": ["user.created"]}
        created = await hooks.post(tenant.path("/webhooks"), json=body, headers=tenant.auth)
        assert created.status_code == 201, created.text
        rotated = await hooks.post(tenant.path(f"/webhooks/{created.json()['id']}/rotate-secret"), headers=tenant.auth)
        assert rotated.status_code == 200, rotated.text

        get_settings.cache_clear()
        env = {"TENANTRY_DATABASE_URL": database_url, "TENANTRY_SECRET_KEY": f"{NEW},{SECRET_KEY}"}
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "reseal"], env=env)
        get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert "2 secret(s) sealed again" in result.output

        new_only = with_settings(hooks_runtime, secret_key=SecretStr(NEW))
        async with new_only.database.transaction(write=False) as session:
            endpoint = (await session.scalars(select(WebhookEndpoint))).one()
        assert endpoint.previous_secret is not None
        assert secretbox.open_sealed(new_only.settings, endpoint.secret).plaintext == rotated.json()["secret"]
        assert secretbox.open_sealed(new_only.settings, endpoint.previous_secret).plaintext == created.json()["secret"]

        await tenant.add_user(password=None)
        await OutboxWorker(new_only, email_sink=CollectingSink()).run_once()
    [received] = receiver.received
    assert Webhook(rotated.json()["secret"]).verify(received.body, received.headers)["type"] == "user.created"
    assert Webhook(created.json()["secret"]).verify(received.body, received.headers)["type"] == "user.created"
