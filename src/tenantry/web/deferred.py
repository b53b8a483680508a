"""Sub-applications built when first used, not when the outer application is.

SCIM and the vendor dialects are whole FastAPI applications, each with its own models and routes: built at
startup they kept 13 MiB resident (scim2_models with lark and pydantic.v1 8.5 MiB, the four dialects 4.4 MiB)
in every served process, also in one nobody provisions or calls a dialect of. A ``DeferredMount`` builds its
application on its first request (which pays the build, 100-250 ms), or when someone walks the routes
(``route_policies``, ``Allow``); an unused surface costs its prefix and nothing more.
"""

from collections.abc import Callable
from typing import ClassVar

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send


async def _unbuilt(scope: Scope, receive: Receive, send: Send) -> None:
    """What ``Mount.__init__`` is handed; never served: ``DeferredMount.app`` answers with the built one."""
    raise RuntimeError("a deferred mount serves the application it builds")


class DeferredMount(Mount):
    """A ``Mount`` whose application ``build()`` makes on first use; ``app`` and ``routes`` are the built one's."""

    builds: ClassVar[int] = 0
    """How many deferred applications were built so far: what walked the routes before walks them again."""

    def __init__(self, path: str, build: Callable[[], ASGIApp], name: str) -> None:
        self._build: Callable[[], ASGIApp] = build
        self._built: ASGIApp | None = None
        super().__init__(path, app=_unbuilt, name=name)

    @property
    def built(self) -> bool:
        return self._built is not None

    @property
    def app(self) -> ASGIApp:
        if self._built is None:
            self._built = self._build()
            DeferredMount.builds += 1
        return self._built

    @app.setter
    def app(self, _: ASGIApp) -> None:
        """``Mount.__init__`` stores the placeholder it was given; the application is built, never set."""

    @property
    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = getattr(self.app, "routes", [])
        return routes
