"""Every request body is bounded before it is read: a declared ``Content-Length`` beyond the limit is refused
before a byte is read, and a streamed (chunked) body is counted as it arrives and refused the moment it
passes the limit. The refusal is a 413 ``HTTPException`` raised where the route reads the body, so each
surface answers it in its own error shape; the rest of the body is never read (the server closes the
connection), so memory stays flat however large the body claims to be.
"""

from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.runtime import runtime_of
from tenantry.web.asgi import HttpMiddleware

_LIMIT_KEY = "tenantry.max_body_bytes"
MULTIPART_OVERHEAD = 64 * 1024
"""What a multipart upload carries besides its file: boundaries, part headers, a few small fields."""


class ContentTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


def allow_body(request: Request, max_bytes: int) -> None:
    """Let this request's body (an upload) grow to ``max_bytes``, instead of the JSON bodies' limit."""
    request.scope[_LIMIT_KEY] = max_bytes


async def upload_body(request: Request) -> None:
    """Dependency of a route taking a CSV upload: its body may be as large as the file may be
    (``TENANTRY_IMPORT_UPLOAD_MAX_BYTES``, with its multipart framing). List it before any dependency that
    reads the form (the console's CSRF check does)."""
    allow_body(request, runtime_of(request).settings.import_upload_max_bytes + MULTIPART_OVERHEAD)


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None


class BodyLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_LIMIT_KEY] = self.max_bytes
        declared = _declared_length(scope)
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            limit: int = scope[_LIMIT_KEY]
            if declared is not None and declared > limit:
                raise ContentTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ContentTooLarge(limit)
            return message

        await self.app(scope, bounded_receive, send)
