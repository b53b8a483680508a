"""Peer 2, the ceiling: bare Starlette and the raw driver, no auth at all, doing what Tenantry's routes do.

- ``GET /users/{id}``: the get-user query;
- ``GET /orgs/{org}/users?after=&limit=``: a keyset page of members with their role names, one statement;
- ``POST /orgs/{org}/users``: create-user's inserts (user, membership, role grant, audit event, outbox message)
  in one transaction.
"""

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

URL = os.environ["BENCH_DATABASE_URL"]
MEMBER_ROLE_ID = "000000000000000000000003"
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

        page_statement = (
            "SELECT u.id, u.email, u.first_name, u.last_name, u.status, m.status AS membership_status, "
            "u.created_at, u.updated_at, (SELECT array_agg(r.name ORDER BY r.name) FROM membership_roles g "
            "JOIN roles r ON r.id = g.role_id WHERE g.membership_id = m.id) AS roles "
            "FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.org_id = $1 AND m.user_id > $2 AND u.id > $2 AND u.status <> 'deleted' "
            "ORDER BY m.user_id LIMIT $3"
        )

        async def page(org_id: str, after: str, limit: int) -> list[dict[str, Any]]:
            return [dict(row) for row in await pool.fetch(page_statement, org_id, after, limit)]

        async def create(org_id: str, email: str) -> str:
            user_id, membership_id = _id(), _id()
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(_numbered(_INSERT_USER), user_id, email, email.lower())
                await connection.execute(_numbered(_INSERT_MEMBERSHIP), membership_id, org_id, user_id)
                await connection.execute(_numbered(_INSERT_GRANT), membership_id, MEMBER_ROLE_ID)
                await connection.execute(_numbered(_INSERT_AUDIT), _id(), org_id, user_id)
                await connection.execute(_numbered(_INSERT_OUTBOX), _id(), org_id, email, json.dumps({"user": user_id}))
            return user_id

        state.update(fetch=fetch, page=page, create=create)
        yield
        await pool.close()
        return
    import aiosqlite

    connection = await aiosqlite.connect(URL.removeprefix("sqlite:///"), isolation_level=None)
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA busy_timeout=5000")
    connection.row_factory = aiosqlite.Row
    statement = f"SELECT {COLUMNS} FROM users WHERE id = ?"  # noqa: S608

    async def fetch(user_id: str) -> dict[str, Any] | None:
        async with connection.execute(statement, (user_id,)) as cursor:
            row = await cursor.fetchone()
        return dict(row) if row is not None else None

    page_statement = (
        "SELECT u.id, u.email, u.first_name, u.last_name, u.status, m.status AS membership_status, "
        "u.created_at, u.updated_at, (SELECT group_concat(name, ',') FROM (SELECT r.name FROM membership_roles g "
        "JOIN roles r ON r.id = g.role_id WHERE g.membership_id = m.id ORDER BY r.name)) AS roles "
        "FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE m.org_id = ? AND m.user_id > ? AND u.id > ? AND u.status <> 'deleted' "
        "ORDER BY m.user_id LIMIT ?"
    )

    async def page(org_id: str, after: str, limit: int) -> list[dict[str, Any]]:
        async with connection.execute(page_statement, (org_id, after, after, limit)) as cursor:
            rows = [dict(row) for row in await cursor.fetchall()]
        for row in rows:
            row["roles"] = row["roles"].split(",") if row["roles"] else []
        return rows

    # One connection, so one transaction at a time on it: concurrent creates queue here (a second BEGIN on the
    # connection would fail "cannot start a transaction within a transaction", which is what every create but
    # the first of each round did before).
    writing = asyncio.Lock()

    async def create(org_id: str, email: str) -> str:
        user_id, membership_id = _id(), _id()
        async with writing:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.execute(_INSERT_USER, (user_id, email, email.lower()))
                await connection.execute(_INSERT_MEMBERSHIP, (membership_id, org_id, user_id))
                await connection.execute(_INSERT_GRANT, (membership_id, MEMBER_ROLE_ID))
                await connection.execute(_INSERT_AUDIT, (_id(), org_id, user_id))
                await connection.execute(_INSERT_OUTBOX, (_id(), org_id, email, json.dumps({"user": user_id})))
                await connection.commit()
            except BaseException:
                await connection.rollback()
                raise
        return user_id

    state.update(fetch=fetch, page=page, create=create)
    yield
    await connection.close()


def _id() -> str:
    return secrets.token_hex(12)


_INSERT_USER = (
    "INSERT INTO users (id, email, email_key, first_name, last_name, settings, status, email_verified, "
    "password_change_required, platform_admin, created_at, updated_at) "
    "VALUES (?, ?, ?, 'New', 'User', '{}', 'active', false, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
_INSERT_MEMBERSHIP = (
    "INSERT INTO memberships (id, org_id, user_id, status, profile, attributes, consent_pending, created_at, "
    "updated_at) VALUES (?, ?, ?, 'invited', '{}', '{}', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
_INSERT_GRANT = "INSERT INTO membership_roles (membership_id, role_id) VALUES (?, ?)"
_INSERT_AUDIT = (
    "INSERT INTO audit_events (id, org_id, action, target_type, target_id, details, event_type, created_at) "
    "VALUES (?, ?, 'user.created', 'user', ?, '{}', 'user.created', CURRENT_TIMESTAMP)"
)
_INSERT_OUTBOX = (
    "INSERT INTO outbox_messages (id, kind, org_id, recipient, payload, status, attempts, next_attempt_at, "
    "created_at) VALUES (?, 'invitation', ?, ?, ?, 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def _numbered(statement: str) -> str:
    """``?`` placeholders as asyncpg's ``$1, $2, ...``."""
    parts = statement.split("?")
    return "".join(part + (f"${index + 1}" if index < len(parts) - 1 else "") for index, part in enumerate(parts))


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}


async def list_page(request: Request) -> JSONResponse:
    limit = min(int(request.query_params.get("limit", "50")), 200)
    rows = await state["page"](request.path_params["org_id"], request.query_params.get("after", ""), limit + 1)
    return JSONResponse(
        {"items": [_json(row) for row in rows[:limit]], "next": rows[limit - 1]["id"] if len(rows) > limit else None}
    )


async def create_user(request: Request) -> JSONResponse:
    body = await request.json()
    user_id = await state["create"](request.path_params["org_id"], body["email"])
    return JSONResponse({"id": user_id, "email": body["email"]}, status_code=201)


async def get_user(request: Request) -> JSONResponse:
    row = await state["fetch"](request.path_params["user_id"])
    if row is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse(
        {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
    )


app = Starlette(
    routes=[
        Route("/users/{user_id}", get_user),
        Route("/orgs/{org_id}/users", list_page),
        Route("/orgs/{org_id}/users", create_user, methods=["POST"]),
    ],
    lifespan=lifespan,
)
