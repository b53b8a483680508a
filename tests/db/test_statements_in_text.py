"""No statement binds a value that a partial index's WHERE compares: SQLite would prepare it again every time it
runs, to decide whether the index applies to that value (``db.base.in_text``). The statement that authorizes a
request under an organization cost six times as much that way."""

import httpx

from tenantry.runtime import Runtime
from tests.factories import Tenant, login
from tests.statements import BOUND_COMPARISON, PARTIAL_INDEX_TERMS, sent_statements


async def test_sign_in_and_the_member_routes_write_compared_constants_into_the_text(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert ("status", "!=") in PARTIAL_INDEX_TERMS
    with sent_statements(runtime.database) as seen:
        member = await tenant.add_user(roles=["member"])
        await login(tenant.client, member.email)
        for path in ("/users", f"/users/{member.id}", "/users?q=user", f"/users/{member.id}/scoped-roles"):
            response = await client.get(tenant.path(path), headers=tenant.auth)
            assert response.status_code == 200, response.text
        changed = await client.patch(tenant.path(f"/users/{member.id}"), json={"first_name": "N"}, headers=tenant.auth)
        assert changed.status_code == 200, changed.text
        assert (await client.get("/api/v1/me", headers=member.auth)).status_code == 200
    assert len(seen) > 20
    assert [statement for statement in seen if BOUND_COMPARISON.search(statement)] == []
