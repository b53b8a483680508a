"""The signing keys are re-read once a minute; that must not get in the way of signing in (SQLite above all)."""

import time

import httpx

from tenantry.runtime import Runtime
from tests.factories import login, make_platform_admin


async def test_sign_in_works_when_the_signing_keys_are_due_for_a_refresh(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await make_platform_admin(runtime)
    runtime.keyring._loaded_at -= 3600  # a server up for an hour
    tokens = await login(client, admin.email)
    assert tokens["access_token"]
    assert time.monotonic() - runtime.keyring._loaded_at < 60  # the keys were re-read
