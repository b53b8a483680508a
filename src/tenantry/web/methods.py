"""Wrong methods answer 405 with ``Allow`` naming every method the path serves (RFC 9110 §15.5.6), and
``OPTIONS`` answers 204 with the same list (an endpoint's own ``OPTIONS``, a CORS preflight, carries it
too; a folder of static assets serves ``GET`` and ``HEAD``). The router names only the methods of the first
route whose path matched (``DELETE /orgs/{org}/users`` said ``Allow: GET`` though the path also takes ``POST``).

One middleware on the outer application serves every surface: it walks the routes from the outer application
down through the mounted ones (sub-applications, folders of static assets), as the request was routed. The
405 keeps the error body of the surface that answered it.
"""

from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from tenantry.web.asgi import HttpMiddleware


def allowed_methods(app: Any, scope: Scope) -> set[str]:
    """The methods of every route of ``app`` whose path matches ``scope``'s, through mounted applications."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.router.routes):
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if route.methods:
            methods |= route.methods
        elif isinstance(route.original_route, Mount):
            inner = route.original_route.app
            if isinstance(inner, StaticFiles):  # a folder of assets: the pages' scripts and styles, the docs' bundles
                methods |= {"GET", "HEAD"}
            elif hasattr(inner, "router"):
                methods |= allowed_methods(inner, {**scope, **child})
    return methods


class AllowedMethodsMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        emptied = False
        app, asked = scope["app"], {**scope}  # routing rewrites the shared scope's root path as it descends

        def allow() -> tuple[bytes, bytes]:
            return b"allow", ", ".join(sorted(allowed_methods(app, asked) | {"OPTIONS"})).encode()

        async def send_allowed(message: Message) -> None:
            nonlocal emptied
            if message["type"] == "http.response.start" and scope["method"] == "OPTIONS" and message["status"] < 300:
                headers = message["headers"]  # an endpoint's own OPTIONS (a CORS preflight) lists them too
                if not any(key.lower() == b"allow" for key, _ in headers):
                    message = {**message, "headers": [*headers, allow()]}
            elif message["type"] == "http.response.start" and message["status"] == 405:
                allowed = allow()
                if scope["method"] == "OPTIONS":  # not an error: the answer to "which methods?"
                    emptied = True
                    kept = [
                        (k, v)
                        for k, v in message["headers"]
                        if k.lower() not in (b"allow", b"content-length", b"content-type")
                    ]
                    message = {**message, "status": 204, "headers": [*kept, allowed]}
                else:
                    kept = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                    message = {**message, "headers": [*kept, allowed]}
            elif message["type"] == "http.response.body" and emptied:
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_allowed)
