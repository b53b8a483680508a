"""Peer 3, the framework's floor: FastAPI alone, answering ``GET /users/{id}`` with a constant member through a
pydantic response model: no database, no authentication, no middleware.

Not a target: it shows what any FastAPI route costs on this core before it does anything, beside the raw
ceiling (bare Starlette and the driver) that the get-user target divides by. Run under Tenantry's own
virtualenv, so that it is Tenantry's FastAPI and pydantic that are measured.
"""

from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Member(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str
    status: str
    email_verified: bool
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@app.get("/users/{user_id}", response_model=Member)
async def get_user(user_id: str) -> Member:
    return Member(
        id=user_id,
        email="user@bench.example.com",
        first_name="Bench",
        last_name="User",
        status="active",
        email_verified=True,
        roles=["member"],
        created_at=_CREATED,
        updated_at=_CREATED,
        last_login_at=None,
    )
