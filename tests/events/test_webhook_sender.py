"""The webhook sender against hostile receivers and addresses: legacy and embedded spellings of private
addresses, DNS rebinding, redirects, endless and dripping answers, receivers that never answer."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tenantry.core.webhooks.urls import check_url
from tenantry.errors import InvalidInput
from tenantry.webhooks import sender

PRIVATE_SPELLINGS = [
    "https://2130706433/",  # decimal
    "https://0177.0.0.1/",  # octal
    "https://0x7f.1/",  # hexadecimal, short form
    "https://127.1/",
    "https://0/",
    "https://0.0.0.0/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[::ffff:a00:1]/",
    "https://[::127.0.0.1]/",  # IPv4-compatible
    "https://[64:ff9b::7f00:1]/",  # NAT64 of a loopback address
    "https://[64:ff9b:1::808:808]/",  # local-use NAT64
    "https://[2002:a00:1::1]/",  # 6to4 of a private address
    "https://[fd00:ec2::254]/",
    "https://169.254.169.254/latest/meta-data/",
]

# One address in each range of IANA's special-purpose registries (IPv4 and IPv6) and of the deprecated ranges
# Python's ``is_global`` (3.11) calls global; each is no webhook receiver's, whether reachable or not.
SPECIAL_PURPOSE = [
    "https://192.0.0.8/",  # IETF protocol assignments, 192.0.0.0/24: the IPv4 dummy address
    "https://192.0.0.9/",  # PCP anycast
    "https://192.0.0.255/",
    "https://192.88.99.1/",  # deprecated 6to4 relay anycast
    "https://192.31.196.1/",  # AS112
    "https://192.52.193.1/",  # AMT
    "https://192.175.48.1/",  # AS112 direct delegation
    "https://198.18.0.1/",  # benchmarking
    "https://240.0.0.1/",  # reserved
    "https://255.255.255.255/",  # limited broadcast
    "https://[::ffff:192.0.0.8]/",  # the same, IPv4-mapped,
    "https://[64:ff9b::c000:8]/",  # through NAT64
    "https://[2002:c058:6301::1]/",  # and 6to4
    "https://[fec0::1]/",  # deprecated site-local
    "https://[3fff::1]/",  # documentation
    "https://[2001:db8::1]/",  # documentation
    "https://[5f00::1]/",  # SRv6 SIDs
    "https://[100::1]/",  # discard-only
    "https://[100:0:0:1::1]/",  # dummy prefix
    "https://[2001::1]/",  # Teredo (IETF protocol assignments, 2001::/23)
    "https://[2001:1::1]/",  # PCP anycast
    "https://[2001:3::1]/",  # AMT
    "https://[2001:4:112::1]/",  # AS112
    "https://[2001:20::1]/",  # ORCHIDv2
    "https://[2620:4f:8000::1]/",  # AS112 direct delegation
    "https://[fe80::1]/",  # link-local
    "https://[ff0e::1]/",  # multicast
]


@pytest.mark.parametrize("url", PRIVATE_SPELLINGS)
def test_a_private_address_in_any_spelling_is_refused_when_saved(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", SPECIAL_PURPOSE)
def test_a_special_purpose_address_is_refused_when_saved(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", SPECIAL_PURPOSE)
async def test_a_special_purpose_address_is_refused_at_delivery(url: str) -> None:
    outcome = await sender.post(url, b"{}", {}, allow_private=False, seconds=2)
    assert outcome.refused, (url, outcome)
    assert outcome.response_status is None


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/",
        "https://192.0.1.1/",  # next to the special-purpose 192.0.0.0/24
        "https://[2606:4700::1111]/",
        "https://[::ffff:8.8.8.8]/",
        "https://[64:ff9b::808:808]/",  # what a DNS64 resolver answers for a public IPv4 receiver
        "https://[2002:808:808::1]/",
        "https://cafe.be/",
    ],
)
def test_public_addresses_and_names_are_saved(url: str) -> None:
    assert check_url(url, allow_private=False) == url


@pytest.mark.parametrize("url", [*PRIVATE_SPELLINGS, "https://localhost/", "http://hooks.example.com/"])
async def test_a_private_address_in_any_spelling_is_refused_at_delivery(url: str) -> None:
    outcome = await sender.post(url, b"{}", {}, allow_private=False, seconds=2)
    assert outcome.refused, (url, outcome)
    assert outcome.response_status is None


Behaviour = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def _server(behaviour: Behaviour) -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("content-length", "0")))
            with contextlib.suppress(OSError):  # the sender hung up, as it should
                behaviour(self)

        def log_message(self, *_: object) -> None:
            pass

    Handler.stop = stop  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def _stopped(handler: BaseHTTPRequestHandler) -> threading.Event:
    event: threading.Event = handler.stop  # type: ignore[attr-defined]
    return event


async def test_a_redirect_is_not_followed() -> None:
    with _server(lambda handler: _answer(handler, 200)) as (elsewhere, elsewhere_hits):

        def redirect(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(307)
            handler.send_header("location", f"{elsewhere}/internal")
            handler.send_header("content-length", "0")
            handler.end_headers()

        with _server(redirect) as (url, hits):
            outcome = await sender.post(f"{url}/hooks", b"{}", {}, allow_private=True, seconds=5)
    assert (hits, elsewhere_hits) == (["/hooks"], [])
    assert outcome.response_status == 307
    assert not outcome.succeeded


def _answer(handler: BaseHTTPRequestHandler, status: int) -> None:
    handler.send_response(status)
    handler.send_header("content-length", "0")
    handler.end_headers()


def _endless(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(500)
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    chunk = b"x" * 16_384
    while not _stopped(handler).is_set():
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def _dripping(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("content-length", "1000000")
    handler.end_headers()
    while not _stopped(handler).wait(0.05):
        handler.wfile.write(b"x")
        handler.wfile.flush()


def _silent(handler: BaseHTTPRequestHandler) -> None:
    _stopped(handler).wait(30)


async def test_an_endless_answer_is_read_up_to_the_limit_only() -> None:
    with _server(_endless) as (url, _):
        started = time.monotonic()
        outcome = await sender.post(url, b"{}", {}, allow_private=True, seconds=20)
    assert time.monotonic() - started < 10  # the limit ended it, not the deadline
    assert outcome.response_status == 500
    assert outcome.error is not None
    assert outcome.error.startswith("HTTP 500: xxx")
    assert len(outcome.error) < 300


@pytest.mark.parametrize("behaviour", [_silent, _dripping], ids=["never_answers", "drips_its_body"])
async def test_one_deadline_bounds_the_whole_exchange(behaviour: Behaviour) -> None:
    with _server(behaviour) as (url, _):
        started = time.monotonic()
        outcome = await sender.post(url, b"{}", {}, allow_private=True, seconds=1)
    assert time.monotonic() - started < 3
    assert outcome.error == "timed out after 1 s"
    assert not outcome.succeeded


async def test_the_connection_goes_to_the_address_checked_not_to_a_second_dns_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name is resolved once; a later answer (here an address nothing listens on) is never
    asked for, as the connection goes to the checked address, with the name kept in the Host header."""
    loop = asyncio.get_running_loop()
    resolve = loop.getaddrinfo
    asked: list[str] = []

    async def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(host))
        if host == "hooks.rebind.test":
            first = asked.count(host) == 1
            address = "127.0.0.1" if first else "10.255.255.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return await resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    hosts: list[str] = []

    def record_host(handler: BaseHTTPRequestHandler) -> None:
        hosts.append(handler.headers["host"])
        _answer(handler, 204)

    with _server(record_host) as (url, hits):
        port = url.rsplit(":", 1)[1]
        outcome = await sender.post(f"http://hooks.rebind.test:{port}/h", b"{}", {}, allow_private=True, seconds=5)
    assert outcome.succeeded, outcome
    assert (hits, hosts) == (["/h"], [f"hooks.rebind.test:{port}"])
    assert asked.count("hooks.rebind.test") == 1
