"""Peer 2, the ceiling: bare Starlette and the raw driver answering the get-user query, no auth at all."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

URL = os.environ["BENCH_DATABASE_URL"]
COLUMNS = "id, email, first_name, last_name, status, email_verified, created_at, updated_at, last_login_at"
state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    if URL.startswith("postgresql"):
        import asyncpg

        state["pool"] = pool = await asyncpg.create_pool(URL, min_size=4, max_size=10)
        statement = f"SELECT {COLUMNS} FROM users WHERE id = $1"  # noqa: S608

        async def fetch(user_id: str) -> dict[str, Any] | None:
            row = await pool.fetchrow(statement, user_id)
            return dict(row) if row is not None else None

        state["fetch"] = fetch
        yield
        await pool.close()
        return
    import aiosqlite

    connection = await aiosqlite.connect(URL.removeprefix("sqlite:///"))
    connection.row_factory = aiosqlite.Row
    statement = f"SELECT {COLUMNS} FROM users WHERE id = ?"  # noqa: S608

    async def fetch(user_id: str) -> dict[str, Any] | None:
        async with connection.execute(statement, (user_id,)) as cursor:
            row = await cursor.fetchone()
        return dict(row) if row is not None else None

    state["fetch"] = fetch
    yield
    await connection.close()


async def get_user(request: Request) -> JSONResponse:
    row = await state["fetch"](request.path_params["user_id"])
    if row is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse(
        {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
    )


app = Starlette(routes=[Route("/users/{user_id}", get_user)], lifespan=lifespan)
