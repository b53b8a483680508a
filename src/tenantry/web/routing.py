"""One transaction per request: the route opens a session, commits it when the answer is a success."""

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute, _get_scope_effective_route_context
from starlette._utils import get_route_path
from starlette.convertors import FloatConvertor, IntegerConvertor, StringConvertor, UUIDConvertor
from starlette.routing import PARAM_REGEX, Match
from starlette.types import Scope

from tenantry.db.engine import Replica, holds_changes
from tenantry.db.errors import is_unavailable
from tenantry.errors import TenantryError, Unauthenticated
from tenantry.runtime import runtime_of
from tenantry.web.database import with_database
from tenantry.web.json_body import guard_body
from tenantry.web.replicas import remember_write, replica_for

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = "__tenantry_writes__"
_BATCHED = "__tenantry_batched__"

E = TypeVar("E", bound=Callable[..., Coroutine[Any, Any, Any]])


def writes(endpoint: E) -> E:
    """Mark an endpoint answering a safe method that may still write (a page that issues a code, say):
    it gets a writing transaction, where other safe-method endpoints get a read-only one."""
    setattr(endpoint, _WRITES, True)
    return endpoint


def batched(endpoint: E) -> E:
    """Mark an endpoint that writes in bounded batches, each in a short transaction of its own (bulk work):
    its request session only reads, so it never holds SQLite's write lock while the rest runs."""
    setattr(endpoint, _BATCHED, True)
    return endpoint


_SLASHLESS_CONVERTORS = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)
"""Path convertors whose values never hold a ``/`` (``path``'s do)."""


def path_shape(path: str, convertors: dict[str, Any]) -> tuple[str, int | None]:
    """What every path a route template matches shares: the text before its first parameter, and how many
    ``/`` it holds (None when a parameter may hold some)."""
    first = PARAM_REGEX.search(path)
    slashless = all(isinstance(convertor, _SLASHLESS_CONVERTORS) for convertor in convertors.values())
    return path[: first.start()] if first else path, path.count("/") if slashless else None


class UnitOfWorkRoute(APIRoute):
    """Runs the endpoint (dependencies included) inside one database transaction.

    Safe methods read in a deferred transaction; others take the write lock up front on SQLite. The work
    is committed before the response leaves, so a client never sees success for something not stored.
    JSON bodies are read with ``web.json_body.decode_json``; a database that is away answers 503
    (``web.database``). Read-only units of work read a replica when replicas are configured, unless the
    caller wrote lately (``web.replicas``).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._prefix, self._slashes = path_shape(self.path, self.param_convertors)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Starlette's match, after a check that turns away a path that cannot match before any regular
        expression runs: a request is matched against every route ahead of its own, and an application's
        routes stand in one list, the API's first (``include_routes``). Matching a get-user's path against the
        40 routes ahead of it took 33 µs; a path no route serves, 242 µs.

        A route reached through FastAPI's own ``include_router`` is matched by FastAPI against its path as
        included (with the router's prefix): the check stands aside there and Starlette's match decides."""
        path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        if (
            not path.startswith(self._prefix) or (self._slashes is not None and path.count("/") != self._slashes)
        ) and _get_scope_effective_route_context(scope) is None:
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = guard_body(super().get_route_handler())
        writes_on_safe_methods = getattr(self.endpoint, _WRITES, False)
        batched_writes = getattr(self.endpoint, _BATCHED, False)

        async def attempt(request: Request, write: bool, replica: Replica | None = None) -> Response:
            database = runtime_of(request).database
            async with database.session(write=write, replica=replica) as session:
                request.state.session = session
                try:
                    response = await handler(request)
                except TenantryError as error:
                    await (session.commit() if error.keep_changes else session.rollback())
                    raise
                except BaseException:
                    await session.rollback()
                    raise
                if response.status_code >= 400:
                    await session.rollback()
                    return response
                if write or holds_changes(session):
                    await session.commit()
            if write:
                remember_write(request, response, database)
            return response

        async def on_replica(request: Request, replica: Replica) -> Response | None:
            """The read answered by ``replica``; None when the primary must answer it instead (the replica is
            away, or does not know the caller yet)."""
            try:
                response = await attempt(request, False, replica)
            except Unauthenticated:
                return None
            except Exception as error:
                if not is_unavailable(error):
                    raise
                replica.failed()
                return None
            return None if response.status_code == 401 else response

        async def run_in_transaction(request: Request) -> Response:
            write = writes_on_safe_methods or request.method not in SAFE_METHODS
            replica = None if write else replica_for(request, runtime_of(request).database)
            if replica is not None and (response := await on_replica(request, replica)) is not None:
                return response
            # A batched endpoint's own session only reads, but the endpoint writes: it is never retried as a read.
            return await with_database(lambda: attempt(request, write and not batched_writes), read=not write)

        return run_in_transaction


def include_routes(parent: APIRouter, router: APIRouter, *, prefix: str = "") -> None:
    """What ``parent.include_router(router, prefix=prefix)`` serves, with ``router``'s routes copied into
    ``parent``'s own list (FastAPI before 0.1xx did that itself).

    FastAPI 0.165 keeps an included router as one lazy route: each request walks the included routers in
    order, recomputes their route versions and matches every inclusion twice (once to find it, once to
    handle it); through the native API's two levels that was 13% of get-user's samples. Copied routes are
    matched once each, as plain Starlette routes. Only routers of ``APIRoute``s, with no include options.

    Every surface includes its routers this way (the pages, the console, the OpenID provider, SCIM, the
    dialects, ``/metrics``): a request for one of them was matched against the API's routes and every lazy
    router ahead of it, 270-440 µs before its own route was found (``UnitOfWorkRoute.matches``)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_routes copies API routes only, not {route!r}")
        parent.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
        )
