"""The core directory: counted, sorted member pages, addable accounts by what the actor may see, the owner."""

import httpx
import pytest

from tenantry.core.actor import Actor
from tenantry.core.memberships import directory as members
from tenantry.core.memberships.directory import MemberCriteria, SortKey
from tenantry.core.orgs import repository as orgs
from tenantry.core.roles import service as roles
from tenantry.core.users import directory, matching
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer, make_tenant
from tests.statements import sent_statements


async def test_members_page_counts_all_and_returns_the_slice_with_roles(runtime: Runtime, tenant: Tenant) -> None:
    for name in ("carol", "alice", "bob"):
        await tenant.add_user(f"{name}@dir.example", password=None, roles=["viewer"])
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, tenant.id)
        assert org is not None
        criteria = MemberCriteria(email_contains="@DIR.")
        total, found = await members.page_at(
            session, org.id, criteria, [SortKey("email", descending=True)], offset=1, limit=5
        )
        assert total == 3
        assert [member.user.email for member in found] == ["bob@dir.example", "alice@dir.example"]
        assert [role.name for role in found[0].roles] == ["viewer"]
        past_the_end = await members.page_at(session, org.id, criteria, [], offset=3, limit=5)
        assert past_the_end == (3, [])
        totals_only = await members.page_at(session, org.id, criteria, [], offset=0, limit=0)
        assert totals_only == (3, [])
        unmatchable = await members.page_at(
            session, org.id, MemberCriteria(email_contains="\x00"), [], offset=0, limit=5
        )
        assert unmatchable == (0, [])


async def test_a_page_of_the_whole_organization_sends_its_cursor_as_a_parameter(
    runtime: Runtime, tenant: Tenant
) -> None:
    added = [await tenant.add_user(f"{name}@keyset.example") for name in ("ann", "ben", "cal")]
    after = min(member.id for member in added)
    with sent_statements(runtime.database) as sent:
        async with runtime.database.transaction(write=False) as session:
            org = await orgs.get_by_ref(session, tenant.id)
            assert org is not None
            everyone, _ = await members.read_page_after(session, org.id, MemberCriteria(), after=None, limit=50)
            whole, _ = await members.read_page_after(session, org.id, MemberCriteria(), after=after, limit=50)
            again, _ = await members.read_page_after(session, org.id, MemberCriteria(), after=after, limit=1)
            active, _ = await members.read_page_after(
                session, org.id, MemberCriteria(status="active"), after=after, limit=50
            )
    later = [member.account.id for member in everyone if member.account.id > after]
    assert [member.account.id for member in whole] == later
    assert [member.account.id for member in again] == later[:1]
    assert {member.id for member in added} - {after} <= {member.account.id for member in active}
    pages = [statement for statement in sent if "membership_roles" in statement][1:]
    assert len(pages) == 3
    # The organization is written into every page's text; the cursor only into a narrowed page's (a plan for it),
    # so that a page of the whole organization is one prepared statement whatever its cursor and size.
    assert all(org.id in statement for statement in pages)
    assert after not in pages[0]
    assert pages[0] == pages[1]
    assert after in pages[2]


async def test_addable_accounts_depend_on_who_asks(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    stranger = await other_tenant.add_user("stranger@globex.example")
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, tenant.id)
        assert org is not None
        admin = Actor(platform_admin=True)
        total, users = await directory.addable_page(session, admin, org, "STRANGER", [], offset=0, limit=10)
        assert (total, [user.id for user in users]) == (1, [stranger.id])
        owner = Actor(user_id=tenant.owner.id)
        assert await directory.addable_page(session, owner, org, None, [], offset=0, limit=10) == (0, [])
        key = Actor(api_key_id="0" * 24)
        assert await directory.orgs_where_users_visible(session, key, org.id) == []
        assert await directory.orgs_where_users_visible(session, admin, org.id) is None


async def test_the_named_owner_is_the_longest_standing_one_who_can_act(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, root_token: str
) -> None:
    initech = await make_tenant(client, root_token, "initech")
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]
    left = await client.delete(initech.path(f"/users/{root_id}"), headers=bearer(root_token))
    assert left.status_code == 204
    later = await initech.add_user("later-owner@example.com", roles=["owner"])
    assert await _named_owner(runtime, initech.id) == initech.owner.id
    disabled = await client.post(initech.path(f"/users/{initech.owner.id}/disable"), headers=later.auth)
    assert disabled.status_code == 200
    assert await _named_owner(runtime, initech.id) == later.id
    assert await _named_owner(runtime, tenant.id) == root_id


async def _named_owner(runtime: Runtime, org_id: str) -> str | None:
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, org_id)
        assert org is not None
        return await directory.organization_owner(session, org)


async def test_a_broad_term_finds_the_same_members_row_by_row(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("dora", "doris", "boris", "jörg"):
        await tenant.add_user(f"{name}@broad.example", password=None)
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, tenant.id)
        assert org is not None
        listed, _ = await members.page_after(session, org.id, MemberCriteria(terms=("ORIS",)), after=None, limit=10)
        monkeypatch.setattr(matching, "BROAD", 1)  # every term with a hit is broad now
        assert await matching.is_broad(session, "oris")
        walked, after = await members.page_after(session, org.id, MemberCriteria(terms=("ORIS",)), after=None, limit=1)
        rest, _ = await members.page_after(session, org.id, MemberCriteria(terms=("ORIS",)), after=after, limit=10)
        # A capped count walks the members too (ASCII terms by LIKE, others through the index), stopping at cap + 1.
        counted = [await members.count(session, org.id, MemberCriteria(terms=("ORIS",)), cap=cap) for cap in (10, 1)]
        umlaut = await members.page_after(session, org.id, MemberCriteria(terms=("JÖR",)), after=None, limit=10)
        umlaut_counted = await members.count(session, org.id, MemberCriteria(terms=("JÖR",)), cap=10)
    assert sorted(member.user.email for member in listed) == ["boris@broad.example", "doris@broad.example"]
    assert [member.user.id for member in walked + rest] == [member.user.id for member in listed]
    assert counted == [2, 2]
    assert [member.user.email for member in umlaut[0]] == ["jörg@broad.example"]
    assert umlaut_counted == 1


async def test_a_search_built_for_one_term_finds_what_another_term_of_its_shape_names(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrowed page's statement is built once per shape of criteria; its term and role are given when it runs."""
    for name in ("anna.kim", "bo.lee", "jörg.xu", "jürgen.ma"):
        await tenant.add_user(f"{name}@shape.example", password=None)
    await tenant.add_user("ed.ng@shape.example", password=None, roles=["viewer"])
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, tenant.id)
        assert org is not None

        async def found(*terms: str, role_id: str | None = None) -> list[str]:
            page, _ = await members.read_page_after(
                session, org.id, MemberCriteria(terms=terms, role_id=role_id), after=None, limit=10
            )
            return [member.account.email for member in page]

        # Two terms of each shape (ASCII, under three characters, not ASCII), each term finding its own member.
        narrow = [await found(term) for term in ("ANNA", "bo.l", "Ki", "Xu", "JÖRG", "JÜRG")]
        viewer, owner = await roles.resolve(session, org.id, ["viewer", "owner"])
        by_role = [await found(role_id=viewer.id), await found(role_id=owner.id), await found("ed", role_id=owner.id)]
        monkeypatch.setattr(matching, "BROAD", 1)  # every term with a hit is broad now
        broad = [await found(term) for term in ("anna", "bo.l", "jörg", "jürg")]
    assert narrow == [[f"{name}@shape.example"] for name in ("anna.kim", "bo.lee", "anna.kim", "jörg.xu")] + [
        ["jörg.xu@shape.example"],
        ["jürgen.ma@shape.example"],
    ]
    viewers, owners, owners_named_ed = by_role
    assert viewers == ["ed.ng@shape.example"]
    assert tenant.owner.email in owners
    assert "ed.ng@shape.example" not in owners
    assert owners_named_ed == []
    assert broad == [[f"{name}@shape.example"] for name in ("anna.kim", "bo.lee", "jörg.xu", "jürgen.ma")]


async def test_a_member_of_a_small_org_searching_a_term_broad_on_the_platform_reads_only_its_org(
    runtime: Runtime, tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term that many accounts of another organization hold is matched on each of this organization's members:
    no page or count of it starts from the platform-wide trigram index (SQLite's FTS5 table, PostgreSQL's
    ``LIKE`` on the trigram indexes), so its cost is the organization's, not the platform's."""
    for index in range(4):
        await other_tenant.add_user(f"crowd{index}@crowded.example", password=None)
    await tenant.add_user("solo@crowded.example", password=None)
    monkeypatch.setattr(matching, "BROAD", 3)  # "crowded" is broad on the platform now
    with sent_statements(runtime.database) as sent:
        async with runtime.database.transaction(write=False) as session:
            org = await orgs.get_by_ref(session, tenant.id)
            assert org is not None
            native, _ = await members.read_page_after(
                session, org.id, MemberCriteria(terms=("crowded",)), after=None, limit=50
            )
            by_email = await members.page_at(
                session, org.id, MemberCriteria(email_contains="@CROWDED."), [SortKey("email")], offset=0, limit=10
            )
            counted = await members.count(session, org.id, MemberCriteria(terms=("crowded",)), cap=100)
    assert [member.account.email for member in native] == ["solo@crowded.example"]
    assert by_email[0] == 1
    assert [member.user.email for member in by_email[1]] == ["solo@crowded.example"]
    assert counted == 1
    searches = [statement for statement in sent if "FROM users JOIN memberships" in statement]
    assert len(searches) == 4  # the page, the count and page of the email filter, the capped count
    # Neither backend's trigram index can answer them: SQLite's LIKE has none, PostgreSQL's strpos none.
    for statement in searches:
        assert "users_search" not in statement
        assert " LIKE " not in statement.upper() or runtime.database.engine.dialect.name == "sqlite"
