"""The shape every ASGI middleware of ours shares: HTTP requests are its business, anything else (lifespan,
websockets) passes straight through; and what those that report on a request watch of its answer."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware:
    """Base class: ``handle`` sees HTTP requests only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


@dataclass
class Answer:
    """How a request was answered: the status its response started with (500 when none started) and when it
    began, for a middleware to report once the request is done."""

    status: int = 500
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def watching(self, send: Send, headers: Sequence[tuple[bytes, bytes]] = ()) -> Send:
        """``send``, noting the response's status (and adding ``headers`` to it)."""

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                if headers:
                    message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        return watched
