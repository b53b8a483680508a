"""Every request body is bounded before it is read: 413 in the surface's error shape beyond
``TENANTRY_MAX_BODY_BYTES`` (declared or streamed), uploads by their own limit, and flat memory under several
oversized bodies at once."""

import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tenantry.db.engine import Database
from tenantry.settings import Settings
from tests.console.test_pages import sign_in, token_of
from tests.factories import Tenant
from tests.live_server import serve
from tests.mailbox import csrf_of

LIMIT = 1024 * 1024
TOO_LARGE = b'{"name": "' + b"x" * LIMIT + b'"}'


async def _streamed(body: bytes, piece: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), piece):
        yield body[start : start + piece]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_json_body_beyond_the_limit_is_413_in_each_surfaces_shape(
    client: httpx.AsyncClient, tenant: Tenant, streamed: bool
) -> None:
    json_headers = {**tenant.auth, "Content-Type": "application/json"}
    cases = [
        ("/api/v1/auth/token", {"Content-Type": "application/json"}, "application/problem+json", "detail"),
        (tenant.path("/users"), json_headers, "application/problem+json", "detail"),
        ("/compat/telm/api/auth/auth/token", {"Content-Type": "application/json"}, "application/json", "message"),
        (f"/compat/eva/eva-user/org/{tenant.id}/users", json_headers, "application/json", "message"),
        (f"/compat/saleschat/v1/org/{tenant.id}/user", json_headers, "application/json", "error_message"),
    ]
    for path, headers, media_type, member in cases:
        content = _streamed(TOO_LARGE) if streamed else TOO_LARGE
        answer = await client.post(path, content=content, headers=headers)
        assert answer.status_code == 413, (path, answer.text)
        assert answer.headers["content-type"].startswith(media_type), path
        assert member in answer.json(), (path, answer.text)


async def test_scim_answers_an_oversized_body_with_its_error(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await tenant.client.post(
        tenant.path("/api-keys"), json={"name": "idp", "roles": ["admin"]}, headers=tenant.auth
    )
    headers = {"Authorization": f"Bearer {response.json()['key']}", "Content-Type": "application/scim+json"}
    answer = await client.post(f"/scim/v2/{tenant.slug}/Users", content=TOO_LARGE, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


async def test_a_body_at_the_limit_is_read(client: httpx.AsyncClient) -> None:
    padding = LIMIT - len(b'{"grant_type": "password", "x": ""}')
    body = b'{"grant_type": "password", "x": "' + b"x" * padding + b'"}'
    assert len(body) == LIMIT
    answer = await client.post("/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "username" in answer.json()["error_description"]


async def test_an_upload_may_exceed_the_json_limit_up_to_its_own(client: httpx.AsyncClient, tenant: Tenant) -> None:
    rows = "".join(f"user{n:07d}@example.com,User {n}\r\n" for n in range(40_000))
    csv = f"email,name\r\n{rows}".encode()
    assert LIMIT < len(csv) < 10 * LIMIT
    answer = await client.post(
        f"/compat/eva/eva-user/org/{tenant.id}/users/bulk-create",
        files={"file": ("users.csv", csv, "text/csv")},
        headers=tenant.auth,
    )
    assert answer.status_code == 413, answer.text  # the row limit (10,000), not the body limit
    assert "rows" in answer.text


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_hosted_pages_and_the_console_answer_an_oversized_form_with_a_page(
    client: httpx.AsyncClient, tenant: Tenant, streamed: bool
) -> None:
    await sign_in(client, tenant.owner.email)
    csrf = csrf_of((await client.get("/ui/account")).text)
    form = f"csrf_token={csrf}&first_name=".encode() + b"x" * LIMIT
    for action in ("/ui/account/profile", f"/console/{tenant.slug}/members"):
        content = _streamed(form) if streamed else form
        answer = await client.post(
            action, content=content, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert answer.status_code == 413, (action, answer.text)
        assert answer.headers["content-type"].startswith("text/html"), action
        assert "larger than this site accepts" in answer.text, action


async def test_the_console_import_takes_a_file_beyond_the_json_limit_up_to_its_own(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The console's CSRF check reads the form before the import route runs: the upload's limit comes first."""
    await sign_in(client, tenant.owner.email)
    upload = f"/console/{tenant.slug}/import"
    token = token_of((await client.get(upload)).text)
    rows = "".join(f"user{n:07d}@example.com,User {n}\n" for n in range(40_000))
    csv = f"email,first_name\n{rows}".encode()
    assert LIMIT < len(csv) < 10 * LIMIT
    answer = await client.post(
        upload, data={"format": "native", "csrf_token": token}, files={"file": ("users.csv", csv, "text/csv")}
    )
    assert answer.status_code == 400, answer.text  # read whole, then refused for its rows (10,000 at most)
    assert "more than 10000 rows" in answer.text
    beyond = b"email,first_name\n" + b"x" * (10 * LIMIT + 128 * 1024)  # past the file and its multipart framing
    answer = await client.post(
        upload, data={"format": "native", "csrf_token": token}, files={"file": ("users.csv", beyond, "text/csv")}
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"].startswith("text/html")


def _rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match
    return int(match.group(1)) * 1024


def _send_chunked(port: int, total: int, answers: list[str]) -> None:
    """POST ``total`` bytes of JSON, chunked, to the public token endpoint; record the status line read back."""
    piece = b"x" * (256 * 1024)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n'
        )
        try:
            for _ in range(total // len(piece)):
                connection.sendall(chunk)
            connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed the connection: the rest is never read
        try:
            answers.append(connection.recv(64).decode("latin-1").split("\r\n")[0])
        except OSError:
            answers.append("closed")


@pytest.fixture
def live_port(settings: Settings, database: Database) -> Iterator[int]:
    """A live server on the migrated test database."""
    with serve(settings) as url:
        yield int(url.rsplit(":", 1)[1])


def test_four_concurrent_60_mib_bodies_keep_the_servers_memory_flat(live_port: int) -> None:
    baseline, peak, sending = _rss_bytes(), 0, True

    def sample() -> None:
        nonlocal peak
        while sending:
            peak = max(peak, _rss_bytes())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    answers: list[str] = []
    senders = [threading.Thread(target=_send_chunked, args=(live_port, 60 * LIMIT, answers)) for _ in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=120)
    sending = False
    sampler.join()
    # Read whole, the four bodies would take 240 MiB; bounded, each costs at most the limit (plus buffers).
    assert peak - baseline < 64 * LIMIT, f"RSS grew by {(peak - baseline) / LIMIT:.0f} MiB"
    assert len(answers) == 4
    assert all(answer in ("HTTP/1.1 413 Request Entity Too Large", "closed") for answer in answers), answers
    assert "HTTP/1.1 413 Request Entity Too Large" in answers


def test_a_declared_oversized_body_is_refused_before_it_is_sent(live_port: int) -> None:
    with socket.create_connection(("127.0.0.1", live_port), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {200 * LIMIT}\r\n\r\n".encode()
        )
        answer = connection.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "application/problem+json" in answer
