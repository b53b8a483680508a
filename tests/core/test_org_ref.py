"""An organization named by id or slug: found by one of its two indexes, never by scanning every organization."""

from typing import Any

from sqlalchemy import Select, select, text

from tenantry.core.memberships import callers
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import ORG_DELETED, Organization
from tenantry.db.engine import Database


async def _add(database: Database, slug: str, status: str = "active") -> str:
    async with database.transaction() as session:
        org = Organization(slug=slug, name=slug.title(), status=status)
        session.add(org)
        await session.flush()
        return org.id


async def test_a_live_organization_is_found_by_its_id_or_its_slug_and_a_deleted_one_by_neither(
    database: Database,
) -> None:
    gone = await _add(database, "ref-gone", ORG_DELETED)
    reused = await _add(database, "ref-gone")  # a deleted organization frees its slug
    live = await _add(database, "ref-live")
    async with database.transaction(write=False) as session:
        found = {ref: await orgs.get_by_ref(session, ref) for ref in (live, "ref-live", gone, "ref-gone", "nothing")}
        rights = await callers.org_and_membership(session, "ref-live", None)
    assert {ref: org.id if org else None for ref, org in found.items()} == {
        live: live,
        "ref-live": live,
        gone: None,
        "ref-gone": reused,
        "nothing": None,
    }
    assert rights[0] is not None
    assert rights[0].id == live


def _authorizing() -> list[Select[Any]]:
    values = {"user_id": "u" * 24, "family_id": "f", "ref": "some-org", "member_id": "m" * 24}
    return [
        callers._statement(True).params(values),
        callers._statement(False).params(values),
        callers._ORG_AND_RIGHTS.params(values),
        select(Organization).where(orgs.matches_ref("some-org")),
    ]


async def test_naming_an_organization_reads_it_through_its_indexes(database: Database) -> None:
    """SQLite planned ``id = :ref OR slug = :ref`` as a scan of every organization (the slug's index is partial,
    which its OR plan does not use): every request under an organization paid for all of them."""
    for number in range(30):
        await _add(database, f"ref-many-{number}")
    async with database.engine.connect() as connection:
        for statement in _authorizing():
            sql = str(statement.compile(connection.sync_connection, compile_kwargs={"literal_binds": True}))
            if database.is_sqlite:
                await connection.exec_driver_sql("ANALYZE")
                plan = " ".join(str(row[-1]) for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
                assert "SCAN organizations" not in plan, plan
                assert "uq_organizations_slug_live" in plan, plan
            else:
                await connection.execute(text("SET LOCAL enable_seqscan = off"))
                plan = " ".join(row[0] for row in await connection.exec_driver_sql(f"EXPLAIN {sql}"))
                assert "Seq Scan on organizations" not in plan, plan
                assert "uq_organizations_slug_live" in plan, plan
