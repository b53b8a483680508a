"""Request context: a request id (taken from ``x-request-id`` when sane), echoed back, and an access log."""

import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.db.ids import new_id
from tenantry.requestctx import request_id

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = structlog.get_logger("tenantry.access")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        current = given if _SANE_ID.fullmatch(given) else new_id()
        token = request_id.set(current)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", current.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],  # never the query string: it may carry secrets
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
            request_id.reset(token)
