"""Access-token verification pins algorithm, type, key, issuer, audience and times: every forgery is 401."""

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tenantry.auth import access_tokens
from tenantry.auth.keys import ALGORITHM, live_keys
from tenantry.core.users.models import User
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer, login


async def _signing_key(runtime: Runtime) -> tuple[str, Ed25519PrivateKey]:
    async with runtime.database.transaction(write=False) as session:
        row = (await live_keys(session, ALGORITHM))[-1]
    private = serialization.load_pem_private_key(row.private_key_pem.encode(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    return row.id, private


def _claims(subject: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "http://testserver",
        "aud": "tenantry",
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "0" * 24,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


Forge = Callable[[str, Ed25519PrivateKey, str], str]


def _sign(claims: dict[str, Any], key: Ed25519PrivateKey, kid: str, typ: str = "at+jwt") -> str:
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, "typ": typ})


FORGERIES: dict[str, Forge] = {
    "alg none": lambda sub, key, kid: (
        _b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
        + "."
        + _b64(json.dumps(_claims(sub)).encode())
        + "."
    ),
    "HS256 keyed with the public key": lambda sub, key, kid: jwt.api_jws.PyJWS(algorithms=["HS256"]).encode(
        json.dumps(_claims(sub)).encode(),
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        algorithm="HS256",
        headers={"kid": kid, "typ": "at+jwt"},
    ),
    "bad signature": lambda sub, key, kid: _sign(_claims(sub), Ed25519PrivateKey.generate(), kid),
    "expired": lambda sub, key, kid: _sign(_claims(sub, exp=int(time.time()) - 60), key, kid),
    "not yet valid": lambda sub, key, kid: _sign(_claims(sub, nbf=int(time.time()) + 600), key, kid),
    "wrong audience": lambda sub, key, kid: _sign(_claims(sub, aud="someone-else"), key, kid),
    "wrong issuer": lambda sub, key, kid: _sign(_claims(sub, iss="https://evil.example"), key, kid),
    "unknown kid": lambda sub, key, kid: _sign(_claims(sub), key, "f" * 24),
    "wrong typ": lambda sub, key, kid: _sign(_claims(sub), key, kid, typ="JWT"),
    "missing exp": lambda sub, key, kid: _sign(_claims(sub, exp=None), key, kid),
    "missing jti": lambda sub, key, kid: _sign(_claims(sub, jti=None), key, kid),
    "unknown subject": lambda sub, key, kid: _sign(_claims("a" * 24), key, kid),
    "act without the organization it is bound to": lambda sub, key, kid: _sign(
        _claims(sub, act={"sub": sub}), key, kid
    ),
    "organization that is not a string": lambda sub, key, kid: _sign(_claims(sub, org_id=5), key, kid),
    "act that names nobody": lambda sub, key, kid: _sign(_claims(sub, act="root", org_id="0" * 24), key, kid),
}


async def test_a_well_formed_token_is_accepted(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    kid, key = await _signing_key(runtime)
    token = _sign(_claims(tenant.owner.id), key, kid)
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize("attack", sorted(FORGERIES))
async def test_forged_tokens_are_401(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, attack: str) -> None:
    kid, key = await _signing_key(runtime)
    token = FORGERIES[attack](tenant.owner.id, key, kid)
    response = await client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401, attack
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_tokens_issued_before_sessions_were_revoked_are_401(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    kid, key = await _signing_key(runtime)
    member = await tenant.add_user()
    old = _sign(_claims(member.id, iat=time.time() - 5), key, kid)
    assert (await client.get("/api/v1/me", headers=bearer(old))).status_code == 200
    await client.post(
        tenant.path(f"/users/{member.id}/password"), json={"password": "a new password"}, headers=tenant.auth
    )
    assert (await client.get("/api/v1/me", headers=bearer(old))).status_code == 401


async def test_verified_claims_are_reused_until_the_token_expires(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await access_tokens.issue(runtime.keyring, runtime.settings, tenant.owner.id, session_id=None)
    first = await access_tokens.verify(runtime.keyring, runtime.settings, token)

    def no_decoding(*_: object, **__: object) -> None:
        raise AssertionError("a cached token was decoded again")

    monkeypatch.setattr(jwt, "decode", no_decoding)
    assert await access_tokens.verify(runtime.keyring, runtime.settings, token) == first
    claims, _ = runtime.keyring.verified[token]
    runtime.keyring.verified[token] = (claims, time.time() - 1)  # past its validity: verified from scratch
    with pytest.raises(AssertionError, match="decoded again"):
        await access_tokens.verify(runtime.keyring, runtime.settings, token)


async def test_a_reload_of_the_keys_forgets_verified_tokens(runtime: Runtime, tenant: Tenant) -> None:
    token = await access_tokens.issue(runtime.keyring, runtime.settings, tenant.owner.id, session_id=None)
    await access_tokens.verify(runtime.keyring, runtime.settings, token)
    assert token in runtime.keyring.verified
    await runtime.keyring.load(create_if_missing=False)
    assert token not in runtime.keyring.verified


async def test_a_tampered_copy_of_a_verified_token_is_still_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    assert (await client.get("/api/v1/me", headers=tenant.auth)).status_code == 200
    header, payload, signature = tenant.owner.token.split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged_claims["sub"] = "0" * 24
    forged = f"{header}.{_b64(json.dumps(forged_claims).encode())}.{signature}"
    assert (await client.get("/api/v1/me", headers=bearer(forged))).status_code == 401


async def test_issued_tokens_carry_integer_times(client: httpx.AsyncClient, tenant: Tenant) -> None:
    token = (await login(client, tenant.owner.email))["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    for name in ("iat", "nbf", "exp"):
        assert type(claims[name]) is int, (name, claims[name])
    owner_claims = jwt.decode(tenant.owner.token, options={"verify_signature": False})
    assert all(type(owner_claims[name]) is int for name in ("iat", "nbf", "exp"))


async def test_a_sign_in_right_after_sessions_were_revoked_is_accepted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    member = await tenant.add_user()
    await client.post(
        tenant.path(f"/users/{member.id}/password"), json={"password": "a new password"}, headers=tenant.auth
    )
    fresh = (await login(client, member.email, "a new password"))["access_token"]
    assert (await client.get("/api/v1/me", headers=bearer(fresh))).status_code == 200


async def test_a_token_without_session_issued_in_the_second_of_a_revocation_is_401(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    kid, key = await _signing_key(runtime)
    member = await tenant.add_user()
    await client.post(
        tenant.path(f"/users/{member.id}/password"), json={"password": "a new password"}, headers=tenant.auth
    )
    async with runtime.database.transaction(write=False) as session:
        revoked_at = (await session.get(User, member.id)).tokens_valid_after  # type: ignore[union-attr]
    assert revoked_at is not None
    same_second = int(revoked_at.timestamp())
    token = _sign(_claims(member.id, iat=same_second, nbf=same_second), key, kid)
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
