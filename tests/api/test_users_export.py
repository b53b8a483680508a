"""GET /orgs/{org}/users/export: every member streamed as CSV or JSON lines, to whoever may read users."""

import csv
import io
import json
from typing import Any

import httpx
import pytest

from tenantry.core.users import export
from tests.factories import Tenant


async def test_the_csv_export_lists_every_member_with_roles_and_status_and_no_credential(
    tenant: Tenant, client: httpx.AsyncClient
) -> None:
    await tenant.add_user("viewer@example.com", roles=["viewer", "editor"], first_name="=cmd|' /C calc'!A0")
    await tenant.add_user("invited@example.com", password=None)

    response = await client.get(tenant.path("/users/export"), headers=tenant.auth)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{tenant.slug}-users.csv"'
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    by_email = {row["email"]: row for row in rows}
    assert by_email["viewer@example.com"]["roles"] == "editor|viewer"
    assert by_email["viewer@example.com"]["first_name"] == "'=cmd|' /C calc'!A0"
    assert by_email["invited@example.com"]["status"] == "invited"
    assert by_email[tenant.owner.email]["status"] == "active"
    assert "$argon2" not in response.text


async def test_the_export_pages_through_every_member_in_id_order(
    tenant: Tenant, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE_SIZE", 2)
    for index in range(5):
        await tenant.add_user(f"paged{index}@example.com", password=None)
    listed = await client.get(tenant.path("/users"), params={"limit": 100}, headers=tenant.auth)

    response = await client.get(tenant.path("/users/export"), params={"format": "jsonl"}, headers=tenant.auth)

    assert response.headers["content-type"] == "application/jsonl"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines == listed.json()["items"]


async def test_json_lines_are_chosen_by_the_accept_header_too(tenant: Tenant, client: httpx.AsyncClient) -> None:
    response = await client.get(tenant.path("/users/export"), headers={**tenant.auth, "Accept": "application/x-ndjson"})
    assert response.headers["content-type"] == "application/jsonl"
    assert json.loads(response.text.splitlines()[0])["email"]


async def test_a_reader_may_export_but_another_organization_may_not(
    tenant: Tenant, other_tenant: Tenant, client: httpx.AsyncClient
) -> None:
    viewer = await tenant.add_user(roles=["viewer"])
    assert (await client.get(tenant.path("/users/export"), headers=viewer.auth)).status_code == 200
    foreign = await client.get(tenant.path("/users/export"), headers=other_tenant.auth)
    assert foreign.status_code == 404
    unknown = await client.get(tenant.path("/users/export"), params={"format": "xml"}, headers=tenant.auth)
    assert unknown.status_code == 422


async def test_an_export_stops_once_its_reader_is_removed(
    tenant: Tenant, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export outlives its request: a reader removed while it streams gets no page read after that."""
    monkeypatch.setattr(export, "PAGE_SIZE", 2)
    viewer = await tenant.add_user("reader@example.com", roles=["viewer"])
    for index in range(6):
        await tenant.add_user(f"paged{index}@example.com", password=None)
    real_page, pages = export.service.page, []

    async def page_then_remove_the_reader(*args: Any, **kwargs: Any) -> Any:
        pages.append(kwargs["after"])
        if len(pages) == 2:  # the first page went out: the owner removes the reader meanwhile
            removed = await client.delete(tenant.path(f"/users/{viewer.id}"), headers=tenant.auth)
            assert removed.status_code == 204
        return await real_page(*args, **kwargs)

    monkeypatch.setattr(export.service, "page", page_then_remove_the_reader)

    with pytest.raises(export.ExportStopped):
        await client.get(tenant.path("/users/export"), headers=viewer.auth)
    assert len(pages) == 2  # the page read while the removal was made, and none after it
