"""One transaction per request: the route opens a session, commits it when the answer is a success."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from tenantry.errors import TenantryError
from tenantry.runtime import get_runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnitOfWorkRoute(APIRoute):
    """Runs the endpoint (dependencies included) inside one database transaction.

    Safe methods read in a deferred transaction; others take the write lock up front on SQLite. The work
    is committed before the response leaves, so a client never sees success for something not stored.
    """

    writes_on_safe_methods = False
    """True for routes whose GET changes state (a vendor's GET that issues a one-time link)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            database = get_runtime(request).database
            writes = self.writes_on_safe_methods or request.method not in SAFE_METHODS
            async with database.session(write=writes) as session:
                request.state.session = session
                try:
                    response = await handler(request)
                except TenantryError as error:
                    await (session.commit() if error.keep_changes else session.rollback())
                    raise
                except BaseException:
                    await session.rollback()
                    raise
                await (session.commit() if response.status_code < 400 else session.rollback())
                return response

        return run_in_transaction


class WritingUnitOfWorkRoute(UnitOfWorkRoute):
    """A unit of work that takes the write lock whatever the method."""

    writes_on_safe_methods = True
