"""Health probes, published keys, and the shape of every error."""

import httpx
import pytest
from sqlalchemy.orm.exc import StaleDataError

from tenantry.core.memberships import service as memberships
from tests.factories import Tenant


async def test_probes_are_public(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_jwks_publishes_the_signing_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert keys
    assert {(key["kty"], key["alg"]) for key in keys} == {("OKP", "EdDSA"), ("RSA", "RS256")}
    assert all(not {"d", "p", "q", "dp", "dq", "qi"} & key.keys() for key in keys)  # public parts only


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = await client.put("/api/v1/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


async def test_validation_problem_lists_fields(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        tenant.path("/users"), json={"email": "x", "roles": [1], "attributes": []}, headers=tenant.auth
    )
    body = response.json()
    assert body["type"] == "urn:tenantry:problem:invalid-input"
    assert body["status"] == 422
    assert {error["field"] for error in body["errors"]} == {"email", "roles[0]", "attributes"}


async def test_malformed_json_is_422_not_500(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        tenant.path("/users"), content=b'{"email": ', headers={**tenant.auth, "content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_text_a_database_cannot_store_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for name in ("nul\u0000", "\ud800"):
        response = await client.post(
            tenant.path("/users"),
            content=(
                '{{"email": "s@example.com", "first_name": "{}"}}'.format(name.encode("unicode_escape").decode())
            ).encode(),
            headers={**tenant.auth, "content-type": "application/json"},
        )
        assert response.status_code == 422, name
    query = await client.get(tenant.path("/users"), params={"q": "a\u0000b"}, headers=tenant.auth)
    assert query.status_code == 422


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 24


async def test_a_row_changed_or_removed_meanwhile_is_a_conflict_not_a_500(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback where a change found its row gone or changed under it (a lock a path did not take)."""

    async def stale(*_: object) -> None:
        raise StaleDataError("UPDATE statement on table 'memberships' expected to update 1 row(s); 0 were matched.")

    member = await tenant.add_user(roles=["member"])
    monkeypatch.setattr(memberships, "set_roles", stale)
    response = await client.put(
        tenant.path(f"/users/{member.id}/roles"), json={"roles": ["admin"]}, headers=tenant.auth
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "meanwhile" in response.json()["detail"]
