"""What every request may need, built once per application, and the request's own session."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.keys import KeyRing
from tenantry.auth.throttle import Throttle
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.flows.context import Flows
from tenantry.db.engine import Database
from tenantry.settings import Settings
from tenantry.templating import Templates


@dataclass
class Runtime:
    settings: Settings
    database: Database
    passwords: Passwords
    keyring: KeyRing
    templates: Templates
    flows: Flows
    throttle: Throttle


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def session_of(request: Request) -> AsyncSession:
    """The session of this request's unit of work (opened by the route, committed when it succeeds)."""
    session: AsyncSession = request.state.session
    return session


# The dependencies are coroutines only so that FastAPI calls them on the event loop: a plain ``def``
# dependency runs in anyio's thread pool, a thread hop per dependency per request.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_session(request: Request) -> AsyncSession:
    """Dependency: ``session_of`` the request."""
    return session_of(request)


# A route's parameters, so a signature names what it needs once: ``session: DbSession, runtime: AppRuntime``.
DbSession = Annotated[AsyncSession, Depends(get_session)]
AppRuntime = Annotated[Runtime, Depends(get_runtime)]
