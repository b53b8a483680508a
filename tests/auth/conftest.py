"""Apps with settings of their own (brute-force limits, Redis, argon2 cost) over the test database."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from tenantry.app import build_runtime, create_app
from tenantry.db.engine import Database
from tenantry.runtime import Runtime
from tests.conftest import settings_for


@dataclass
class Instance:
    """One Tenantry instance (its own throttle, key ring and hasher) over the shared test database."""

    runtime: Runtime
    app: FastAPI
    stack: AsyncExitStack

    async def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        """A client whose requests come from ``address``."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 4321))
        return await self.stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )


MakeInstance = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def instance(database: Database, database_url: str) -> AsyncIterator[MakeInstance]:
    """Make an instance with settings overrides."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: object) -> Instance:
            runtime = build_runtime(settings_for(database_url, **overrides), database)
            await runtime.keyring.load()
            return Instance(runtime, create_app(runtime=runtime), stack)

        yield make
