"""The shape every ASGI middleware of ours shares: HTTP requests are its business, anything else (lifespan,
websockets) passes straight through."""

from starlette.types import ASGIApp, Receive, Scope, Send


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
