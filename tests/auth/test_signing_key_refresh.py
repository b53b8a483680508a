"""The signing keys are re-read once a minute: that must not get in the way of signing in (SQLite above all), and
what one process does with them must agree with what every other publishes and accepts. Two key rings on one
database stand for two processes; `tenantry keys rotate | retire` is `keys.rotate` / `keys.retire` in a
transaction of its own."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tenantry.auth import access_tokens, keys
from tenantry.core.tokens.models import SigningKey
from tenantry.db.base import utcnow
from tenantry.errors import Unauthenticated
from tenantry.runtime import Runtime
from tests.factories import Tenant, login, make_platform_admin

MINUTE = 60.0


async def test_sign_in_works_when_the_signing_keys_are_due_for_a_refresh(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await make_platform_admin(runtime)
    runtime.keyring._loaded_at -= 3600  # a server up for an hour
    tokens = await login(client, admin.email)
    assert tokens["access_token"]
    assert time.monotonic() - runtime.keyring._loaded_at < 60  # the keys were re-read


@pytest.fixture
async def keys_as_found(runtime: Runtime) -> AsyncIterator[None]:
    """The shared key ring, re-read after the test changed the keys."""
    yield
    await runtime.keyring.load()


async def _rotate(runtime: Runtime, *, age: float = 0.0) -> SigningKey:
    """`tenantry keys rotate`, ``age`` seconds ago."""
    async with runtime.database.transaction() as session:
        key = await keys.rotate(session)
        key.created_at = utcnow() - timedelta(seconds=age)
    return key


async def _retire(runtime: Runtime, kid: str) -> None:
    """`tenantry keys retire <kid> --force`."""
    async with runtime.database.transaction() as session:
        await keys.retire(session, kid, token_lifetime=timedelta(seconds=900), force=True)


async def _age_keys(runtime: Runtime, seconds: float) -> None:
    """The keys were made ``seconds`` earlier than they were."""
    async with runtime.database.transaction() as session:
        for key in await keys.all_keys(session):
            key.created_at -= timedelta(seconds=seconds)


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def _published(ring: keys.KeyRing) -> set[str]:
    return {key["kid"] for key in (await ring.jwks())["keys"]}


def _forged(runtime: Runtime, key: SigningKey, subject: str) -> str:
    """A token signed with ``key``'s private key by whoever copied it, valid for as long as they like."""
    private = serialization.load_pem_private_key(key.private_key_pem.encode(), password=None)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": runtime.settings.access_token_issuer,
        "aud": runtime.settings.jwt_audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + 10 * 86_400,
        "jti": "f" * 24,
    }
    return jwt.encode(claims, private, algorithm=keys.ALGORITHM, headers={"kid": key.id, "typ": "at+jwt"})  # type: ignore[arg-type]


@pytest.mark.usefixtures("keys_as_found")
async def test_a_verified_token_is_refused_within_a_minute_of_its_key_being_retired(
    runtime: Runtime, tenant: Tenant
) -> None:
    leaked = await _rotate(runtime, age=3600)  # an older key, verifying: its private key was copied
    await runtime.keyring.load()
    forged = _forged(runtime, leaked, tenant.owner.id)
    await access_tokens.verify(runtime.keyring, runtime.settings, forged)  # accepted, and remembered

    await _retire(runtime, leaked.id)  # from another process: this one sees only tokens it verified before
    runtime.keyring._loaded_at -= MINUTE  # a minute later
    with pytest.raises(Unauthenticated):
        await access_tokens.verify(runtime.keyring, runtime.settings, forged)
    assert leaked.id not in await _published(runtime.keyring)


@pytest.mark.usefixtures("keys_as_found")
async def test_every_process_publishes_a_new_key_before_any_signs_with_it(runtime: Runtime, tenant: Tenant) -> None:
    signer, publisher = keys.KeyRing(runtime.database), keys.KeyRing(runtime.database)
    await _age_keys(runtime, keys.PUBLISH_SECONDS)  # the keys in use were made long ago
    await signer.load()
    await publisher.load()
    old_kid = _kid(await signer.sign({"sub": tenant.owner.id}))

    new = await _rotate(runtime)
    await signer.load()  # the signer re-reads the keys at once (it met the new kid, say); the publisher not yet
    token = await signer.sign({"sub": tenant.owner.id})
    assert _kid(token) in await _published(publisher)
    assert _kid(token) == old_kid  # the previous key signs until every process publishes the new one

    await _age_keys(runtime, keys.PUBLISH_SECONDS)  # that long later: both re-read the keys meanwhile
    signer._loaded_at -= keys.PUBLISH_SECONDS
    publisher._loaded_at -= keys.PUBLISH_SECONDS
    token = await signer.sign({"sub": tenant.owner.id})
    assert _kid(token) == new.id
    assert new.id in await _published(publisher)


@pytest.mark.usefixtures("keys_as_found")
async def test_after_a_leak_the_new_key_signs_as_soon_as_the_old_ones_are_retired(
    runtime: Runtime, tenant: Tenant
) -> None:
    await _age_keys(runtime, keys.PUBLISH_SECONDS)
    await runtime.keyring.load()
    async with runtime.database.transaction(write=False) as session:
        leaked = [key.id for key in await keys.live_keys(session, keys.ALGORITHM)]  # a copy of the database leaked
    new = await _rotate(runtime)
    for kid in leaked:  # the leaked keys must stop now, not once the new one is published everywhere
        await _retire(runtime, kid)
    runtime.keyring._loaded_at -= MINUTE
    assert _kid(await runtime.keyring.sign({"sub": tenant.owner.id})) == new.id
    published = await _published(runtime.keyring)
    assert new.id in published
    assert not published & set(leaked)


async def test_verifications_that_find_the_keys_a_minute_old_wait_for_one_read_of_them(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await access_tokens.issue(runtime.keyring, runtime.settings, tenant.owner.id, session_id=None)
    await access_tokens.verify(runtime.keyring, runtime.settings, token)
    reads = 0
    load = runtime.keyring.load

    async def counted_load(*, create_if_missing: bool = True) -> None:
        nonlocal reads
        reads += 1
        await load(create_if_missing=create_if_missing)

    monkeypatch.setattr(runtime.keyring, "load", counted_load)
    runtime.keyring._loaded_at -= MINUTE
    await asyncio.gather(*(access_tokens.verify(runtime.keyring, runtime.settings, token) for _ in range(10)))
    assert reads == 1
