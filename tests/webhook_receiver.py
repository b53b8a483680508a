"""A real HTTP receiver on loopback for webhook tests: records every request, answers as told."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """A request as it arrived (also one the receiver never answered)."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    """Answers to give, first to last; 200 once they run out."""
    hang_first: bool = False
    """Hold the first request open (never answer it), as a receiver whose sender dies would see it."""
    hold: threading.Event | None = None
    """Hold every request until this is set, then answer it: a slow receiver (it answers in time)."""
    received: list[Received] = field(default_factory=list)
    first_request: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def answer(self) -> int | None:
        first = not self.first_request.is_set()
        self.first_request.set()
        if first and self.hang_first:
            return None
        return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def webhook_receiver(receiver: Receiver | None = None) -> Iterator[Receiver]:
    receiver = receiver or Receiver()
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            if receiver.hold is not None:
                receiver.hold.wait(60)
            status = receiver.answer()
            if status is None:
                release.wait(30)
                return
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        release.set()
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
