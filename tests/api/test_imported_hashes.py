"""Accounts created with a hash from another system sign in with their old password and are re-hashed."""

import bcrypt
import httpx
from sqlalchemy import select

from tenantry.core.users.models import User
from tenantry.runtime import Runtime
from tests.factories import Tenant, login

OLD_PASSWORD = "the password from before"


async def _stored_hash(runtime: Runtime, email: str) -> str | None:
    async with runtime.database.transaction(write=False) as session:
        return await session.scalar(select(User.password_hash).where(User.email == email))


async def test_an_imported_bcrypt_hash_signs_in_and_is_rehashed_to_argon2id(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    imported = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    created = await client.post(
        tenant.path("/users"), json={"email": "migrated@example.com", "password_hash": imported}, headers=tenant.auth
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    assert await _stored_hash(runtime, "migrated@example.com") == imported
    await login(client, "migrated@example.com", OLD_PASSWORD)
    rehashed = await _stored_hash(runtime, "migrated@example.com")
    assert rehashed is not None
    assert rehashed.startswith("$argon2id$")
    assert runtime.passwords.needs_rehash(rehashed) is False
    await login(client, "migrated@example.com", OLD_PASSWORD)


async def test_a_wrong_password_does_not_rehash(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    imported = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    await client.post(
        tenant.path("/users"), json={"email": "migrated@example.com", "password_hash": imported}, headers=tenant.auth
    )
    fields = {"grant_type": "password", "username": "migrated@example.com", "password": "not it"}
    assert (await client.post("/api/v1/auth/token", data=fields)).status_code == 400
    assert await _stored_hash(runtime, "migrated@example.com") == imported


async def test_unsupported_hashes_are_422_saying_why(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cases = {
        "$1$saltsalt$md5cryptdigest": "unrecognised hash",
        "$2b$31$" + "a" * 53: "bcrypt cost above 16",
        "plain text": "unrecognised hash",
    }
    for value, reason in cases.items():
        response = await client.post(
            tenant.path("/users"), json={"email": "m@example.com", "password_hash": value}, headers=tenant.auth
        )
        assert response.status_code == 422, value
        [error] = response.json()["errors"]
        assert error["field"] == "password_hash"
        assert reason in error["message"]


async def test_a_password_and_a_hash_together_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = {"email": "m@example.com", "password": "lunar-orbit-2031", "password_hash": "$2b$04$" + "a" * 53}
    response = await client.post(tenant.path("/users"), json=body, headers=tenant.auth)
    assert response.status_code == 422
    assert "at most one of password and password_hash" in response.json()["errors"][0]["message"]
