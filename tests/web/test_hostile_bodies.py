"""Bodies a client got wrong (nested too deeply, truncated, not UTF-8, broken multipart) answer 400/422 in the
surface's own error body, naming the body and the position, on every surface; never a 500 or a traceback."""

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from tests.factories import Tenant

DEEP = b"[" * 2000
TRUNCATED = b'{"name": '
NOT_UTF8 = b'{"name": "\xff\xfe"}'
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


async def _scim_key(tenant: Tenant) -> str:
    response = await tenant.client.post(
        tenant.path("/api-keys"), json={"name": "idp", "roles": ["admin"]}, headers=tenant.auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def _scim_user(client: httpx.AsyncClient, base: str, headers: dict[str, str]) -> str:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@example.com"}
    response = await client.post(f"{base}/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _json_endpoints(client: httpx.AsyncClient, tenant: Tenant) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, headers) of JSON routes of every surface, the public token endpoints first."""
    scim = f"/scim/v2/{tenant.slug}"
    scim_headers = {"Authorization": f"Bearer {await _scim_key(tenant)}", "Content-Type": "application/scim+json"}
    user_id = await _scim_user(client, scim, scim_headers)
    as_json = {**tenant.auth, "Content-Type": "application/json"}
    public = {"Content-Type": "application/json"}
    return [
        ("POST", "/api/v1/auth/token", public),
        ("POST", "/compat/telm/api/auth/auth/token", public),
        ("POST", f"{scim}/Users", scim_headers),
        ("PATCH", f"{scim}/Users/{user_id}", scim_headers),
        ("POST", f"{scim}/Users/.search", scim_headers),
        ("POST", f"{scim}/Groups", scim_headers),
        ("POST", tenant.path("/users"), as_json),
        ("POST", f"/compat/saleschat/v1/org/{tenant.id}/user", as_json),
        ("POST", f"/compat/akinon/organizations/{tenant.id}/users", as_json),
        ("POST", f"/compat/eva/eva-user/org/{tenant.id}/users", as_json),
        ("POST", f"/compat/telm/api/auth/auth/{tenant.slug}/apiKeys", as_json),
    ]


def _names_body_and_position(answer: httpx.Response) -> None:
    assert answer.status_code in (400, 422), answer.text
    text = answer.text
    assert "body" in text, text
    assert "position" in text, text
    assert '"[' not in text, "the error must name the body, not a JSON path made of the position"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "nests deeper than 64 levels"),
        (TRUNCATED, "is not valid JSON"),
        (NOT_UTF8, "is not UTF-8"),
    ],
    ids=["deeply-nested", "truncated", "not-utf8"],
)
async def test_unreadable_json_is_a_client_error_naming_the_body_on_every_surface(
    client: httpx.AsyncClient, tenant: Tenant, caplog: pytest.LogCaptureFixture, body: bytes, reason: str
) -> None:
    endpoints = await _json_endpoints(client, tenant)
    with caplog.at_level(logging.ERROR):
        for method, path, headers in endpoints:
            answer = await client.request(method, path, content=body, headers=headers)
            _names_body_and_position(answer)
            assert reason in answer.text, (path, answer.text)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_truncated_json_names_the_line_column_and_position(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {**tenant.auth, "Content-Type": "application/json"}
    answer = await client.post(tenant.path("/users"), content=TRUNCATED, headers=headers)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"] == [
        {"field": "body", "message": "is not valid JSON: expecting value at line 1, column 10 (position 9)"}
    ]


async def test_scim_answers_a_broken_body_with_invalid_syntax(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {await _scim_key(tenant)}", "Content-Type": "application/scim+json"}
    answer = await client.post(f"/scim/v2/{tenant.slug}/Users", content=DEEP, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "invalidSyntax"
    assert answer.headers["content-type"].startswith("application/scim+json")


async def test_the_public_token_endpoint_answers_deep_json_as_an_oauth_error(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/auth/token", content=DEEP, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


async def test_nesting_within_the_limit_is_read(client: httpx.AsyncClient, tenant: Tenant) -> None:
    nested: Any = "deep"
    for _ in range(60):
        nested = {"level": nested}
    body = {"email": "deep@example.com", "password": "correct horse battery staple", "profile": nested}
    answer = await client.post(tenant.path("/users"), json=body, headers=tenant.auth)
    assert "nests deeper" not in answer.text


async def test_eva_bulk_create_answers_a_malformed_multipart_part_header_with_422(
    client: httpx.AsyncClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=a.csv\r\nX-[bad]: 1\r\n\r\n"
        f"email\r\nada@example.com\r\n--{boundary}--\r\n"
    ).encode()
    headers = {**tenant.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    with caplog.at_level(logging.ERROR):
        answer = await client.post(
            f"/compat/eva/eva-user/org/{tenant.id}/users/bulk-create", content=body, headers=headers
        )
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["details"]
    assert detail["fieldName"] == "file"
    assert "the request body is not valid multipart/form-data" in detail["message"]
    assert "position" in detail["message"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_eva_bulk_create_answers_a_field_beyond_the_csv_limit_with_422_naming_its_line(
    client: httpx.AsyncClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    header = "email;name;company;role;password;environmentUuid;environmentName;bot\n"
    csv = f"{header}ada@example.com;{'x' * 200_000};Acme;ADMIN;Secret-123;;;\n".encode()
    with caplog.at_level(logging.ERROR):
        answer = await client.post(
            f"/compat/eva/eva-user/org/{tenant.id}/users/bulk-create",
            files={"file": ("users.csv", csv, "text/csv")},
            headers=tenant.auth,
        )
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["details"]
    assert detail["fieldName"] == "file"
    assert detail["message"].startswith("line 2: ")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_client_gone_before_its_body_arrived_logs_no_error(
    app: FastAPI, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection closed halfway through an upload (read as it arrives): nobody reads the answer, and no
    traceback is logged."""
    part = b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nemail;name\r\n'
    pieces: list[Message] = [{"type": "http.request", "body": part, "more_body": True}, {"type": "http.disconnect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return pieces.pop(0) if pieces else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    path = f"/compat/eva/eva-user/org/{tenant.id}/users/bulk-create"
    headers = [(b"content-type", b"multipart/form-data; boundary=b0undary"), (b"content-length", b"100000")]
    headers += [(b"authorization", tenant.auth["Authorization"].encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("disconnected" in record.getMessage() for record in caplog.records)


async def test_a_nul_character_in_a_role_permission_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = {"name": "nul", "permissions": ["users:read", "a\u0000b"]}
    answer = await client.post(tenant.path("/roles"), json=body, headers=tenant.auth)
    assert answer.status_code == 422, answer.text
    assert "permissions" in answer.text


async def test_a_nul_character_in_the_path_or_query_is_a_client_error(
    client: httpx.AsyncClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL refuses NUL in text; the request carried it, so the answer is a 4xx, never a 500."""
    with caplog.at_level(logging.ERROR):
        for path in (
            "/api/v1/orgs/a%00b",
            tenant.path("/users/u%00x"),
            tenant.path("/roles/r%00x"),
            tenant.path("/users?q=a%00b"),
            f"/compat/saleschat/v1/org/{tenant.id}/user/a%00b",
            f"/scim/v2/{tenant.slug}/Users/a%00b",
        ):
            answer = await client.get(path, headers=tenant.auth)
            assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
