"""No statement binds a value that a partial index's WHERE compares: SQLite would prepare it again every time it
runs, to decide whether the index applies to that value (``db.base.in_text``). The statement that authorizes a
request under an organization cost six times as much that way."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from tenantry.db.base import Base
from tenantry.runtime import Runtime
from tests.factories import Tenant, login


def _partial_index_terms() -> set[str]:
    """The columns the partial indexes' WHERE compares with a value (``status`` of accounts and organizations)."""
    terms = set()
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"].get("where")
            if where is not None:
                terms.update(re.findall(r"(\w+)\s*(?:!=|<>|=|<|>)\s*'", str(where)))
    return terms


@contextmanager
def _statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_sign_in_and_the_member_routes_write_compared_constants_into_the_text(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    terms = _partial_index_terms()
    assert "status" in terms
    bound = re.compile(rf"\.(?:{'|'.join(terms)})\s*(?:!=|<>|=|<|>)\s*(?:\?|\$\d+|%\(\w+\)s)")
    with _statements(runtime) as seen:
        member = await tenant.add_user(roles=["member"])
        await login(tenant.client, member.email)
        for path in ("/users", f"/users/{member.id}", "/users?q=user", f"/users/{member.id}/scoped-roles"):
            response = await client.get(tenant.path(path), headers=tenant.auth)
            assert response.status_code == 200, response.text
        changed = await client.patch(tenant.path(f"/users/{member.id}"), json={"first_name": "N"}, headers=tenant.auth)
        assert changed.status_code == 200, changed.text
        assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 200
    assert len(seen) > 20
    assert [statement for statement in seen if bound.search(statement)] == []
