"""Wrong methods answer 405 with ``Allow`` naming every method the path serves (RFC 9110 §15.5.6), and
``OPTIONS`` answers 204 with the same list. The router names only the methods of the first route whose path
matched (``DELETE /orgs/{org}/users`` said ``Allow: GET`` though the path also takes ``POST``).

One middleware on the outer application serves every surface: a mounted sub-application records itself and
its root path in the (shared) scope, so the routes consulted are those of the application that answered. The
405 keeps the error body of the surface that answered it.
"""

from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from tenantry.web.asgi import HttpMiddleware


def allowed_methods(scope: Scope) -> str:
    """The methods of every route of the application in ``scope`` whose path matches, with OPTIONS."""
    methods = {"OPTIONS"}
    for route in iter_route_contexts(scope["app"].router.routes):
        if route.methods and route.matches(scope)[0] is not Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


class AllowedMethodsMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        emptied = False

        async def send_allowed(message: Message) -> None:
            nonlocal emptied
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = (b"allow", allowed_methods(scope).encode())
                if scope["method"] == "OPTIONS":  # not an error: the answer to "which methods?"
                    emptied = True
                    kept = [
                        (k, v)
                        for k, v in message["headers"]
                        if k.lower() not in (b"allow", b"content-length", b"content-type")
                    ]
                    message = {**message, "status": 204, "headers": [*kept, allow]}
                else:
                    kept = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                    message = {**message, "headers": [*kept, allow]}
            elif message["type"] == "http.response.body" and emptied:
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_allowed)
