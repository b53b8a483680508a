"""The importer's parts: records from chunks, echo safety, a batch that loses a race, batches written at once."""

import asyncio
import tracemalloc
from typing import Any

import pytest
from sqlalchemy import func, select

from tenantry.core.actor import SYSTEM
from tenantry.core.imports import importer as importer_module
from tenantry.core.imports import store
from tenantry.core.imports.importer import Importer, Summary
from tenantry.core.imports.native import NativeFormat
from tenantry.core.imports.records import RecordReader, csv_safe
from tenantry.core.imports.rows import Outcome
from tenantry.core.imports.units import OwnTransactions
from tenantry.core.memberships.models import Membership
from tenantry.core.orgs import repository as orgs
from tenantry.core.users.models import User
from tenantry.db import sqlite_trips
from tenantry.errors import InvalidInput
from tenantry.runtime import Runtime
from tests.factories import Tenant

SAMPLE = '\ufeffemail;name\r\na@b.c;"two\nlines, ""quoted"""\r\n\r\nx@y.z;plain\nlast;no newline'.encode()


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 10_000])
def test_records_are_the_same_whatever_the_chunk_size(chunk: int) -> None:
    reader = RecordReader(";")
    records = []
    for start in range(0, len(SAMPLE), chunk):
        records.extend(reader.feed(SAMPLE[start : start + chunk]))
    records.extend(reader.close())
    assert [(record.line, record.fields) for record in records] == [
        (1, ["email", "name"]),
        (2, ["a@b.c", 'two\nlines, "quoted"']),
        (5, ["x@y.z", "plain"]),
        (6, ["last", "no newline"]),
    ]


def test_a_multibyte_character_split_across_chunks_decodes() -> None:
    reader = RecordReader(",")
    data = "é,ü\n".encode()
    records = reader.feed(data[:1]) + reader.feed(data[1:3]) + reader.feed(data[3:]) + reader.close()
    assert records[0].fields == ["é", "ü"]


def test_a_field_beyond_the_csv_modules_limit_is_an_error_of_the_file_naming_its_line() -> None:
    reader = RecordReader(";")
    data = b"email;name\nada@example.com;" + b"x" * 200_000 + b"\n"
    with pytest.raises(InvalidInput) as refused:
        reader.feed(data)
    (error,) = refused.value.errors
    assert error.field == "file"
    assert error.message.startswith("line 2: field larger than field limit")


def test_a_record_with_more_cells_than_the_format_has_columns_is_refused_before_it_is_split() -> None:
    reader = RecordReader(",", max_fields=12)
    quoted = 'ada@example.com,"Lovelace, Ada, Countess",' + ",".join(["x"] * 10) + "\n"  # 12 cells, commas quoted
    wide = "bob@example.com," + ",".join(["abc"] * 200_000) + "\n"
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as refused:
            reader.feed(f"email,first_name\n{quoted}\n{wide}".encode())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (error,) = refused.value.errors
    assert error.field == "file"
    assert error.message == "line 4 has more than 12 cells"
    assert peak < 8 * len(wide)  # the line's text, a copy or two: not 200,000 strings of their own


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=1+2", "'=1+2"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("\tx", "'\tx"), ("a=b", "a=b"), ("", "")],
)
def test_echoed_values_cannot_start_a_formula(value: str, safe: str) -> None:
    assert csv_safe(value) == safe


async def _imported(
    runtime: Runtime, tenant: Tenant, data: bytes, outcomes: list[Outcome], *, batch_size: int = 3
) -> Summary:
    async with runtime.database.transaction(write=False) as session:
        org = await orgs.get_by_ref(session, tenant.slug)
    assert org is not None
    importer = Importer(
        org=org,
        actor=SYSTEM,
        format=NativeFormat(org),
        passwords=runtime.passwords,
        units=OwnTransactions(runtime.database),
        settings=runtime.settings,
        on_outcome=outcomes.append,
        batch_size=batch_size,
    )
    await importer.feed(data)
    return await importer.finish()


async def test_rows_created_by_someone_else_meanwhile_are_reported_not_lost(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write transaction re-checks; when a concurrent insert still slips in, the batch is retried."""
    await tenant.add_user("raced@example.com", password=None)
    real_check = store.existing_accounts
    calls = 0

    async def blind_once(*args: Any) -> dict[str, bool]:
        nonlocal calls
        calls += 1
        return {} if calls <= 2 else await real_check(*args)  # the read and the first write miss the row

    monkeypatch.setattr(store, "existing_accounts", blind_once)
    outcomes: list[Outcome] = []
    summary = await _imported(runtime, tenant, b"email\nraced@example.com\nnew@example.com\n", outcomes)
    assert (summary.created, summary.present, summary.failed) == (1, 1, 0)
    assert [(outcome.email, outcome.status) for outcome in outcomes] == [("raced@example.com", "present")]


async def test_spellings_of_one_address_are_one_identity_in_a_file_and_against_the_database(
    runtime: Runtime, tenant: Tenant
) -> None:
    await tenant.add_user("Ärger@acme.test", password=None)
    outcomes: list[Outcome] = []
    data = "email\nÄRGER@acme.test\nu@bücher.test\nU@xn--bcher-kva.test\n".encode()
    summary = await _imported(runtime, tenant, data, outcomes)
    assert (summary.created, summary.present, summary.failed) == (1, 1, 1)
    assert sorted((outcome.line, outcome.status) for outcome in outcomes) == [(2, "present"), (4, "failed")]


def _traced_inserts(
    monkeypatch: pytest.MonkeyPatch, events: list[tuple[str, int]], *, slow: int, fail: int = 0
) -> None:
    """Record when each batch (named by its first line) has its rows in and when its turn to commit comes; the
    batch starting at ``slow`` takes a while to write, the one starting at ``fail`` fails once its rows are in."""
    real = store.insert_members

    async def traced(session: Any, org_id: str, actor: Any, members: list[store.NewMember], *, turn: Any) -> None:
        first = members[0].line

        async def traced_turn() -> None:
            events.append(("rows in", first))
            if first == fail:
                raise RuntimeError("the disk is full")
            await turn()
            events.append(("turn", first))

        if first == slow:
            await asyncio.sleep(0.3)  # still writing when the next batch is read and starts its own write
        await real(session, org_id, actor, members, turn=traced_turn)

    monkeypatch.setattr(store, "insert_members", traced)


async def _member_emails(runtime: Runtime, tenant: Tenant) -> set[str]:
    async with runtime.database.transaction(write=False) as session:
        found = await session.scalars(
            select(User.email).join(Membership, Membership.user_id == User.id).where(Membership.org_id == tenant.id)
        )
        return set(found)


def _rows(name: str) -> bytes:
    """With three rows read at a time, three batches: lines 2, 4 and 5; 7 and 8 (line 6, line 2 again in
    capitals, is read with them and fails); 9 and 11."""
    valid = [f"{name}{n}@example.com" for n in range(1, 8)]
    lines = ["email", valid[0], "not an email", *valid[1:3], valid[0].upper(), *valid[3:6], "bad@", valid[6]]
    return "\n".join(lines).encode() + b"\n"


async def test_imported_rows_read_back_as_written(runtime: Runtime, tenant: Tenant) -> None:
    """Every value comes back as the file gave it, whatever its characters (none that cannot be stored: a NUL
    fails the row), and the types of the columns hold: SQLite's rows go in as one JSON document per table and batch
    (``store._insert_sql``)."""
    names = ['Zoë "Q" \\ 🚀', "O'Brien\ttab", "名前", "1e5", "null", "{}"]
    lines = ["email,first_name,last_name,email_verified,status,locale"]
    for number, name in enumerate(names):
        verified = "true" if number % 2 else "false"
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"read-back-{number}@example.com,{quoted},{quoted},{verified},active,de")
    outcomes: list[Outcome] = []
    summary = await _imported(runtime, tenant, ("\n".join(lines) + "\n").encode(), outcomes, batch_size=4)
    assert (summary.created, summary.failed) == (len(names), 0), outcomes
    async with runtime.database.transaction(write=False) as session:
        rows = (
            await session.execute(
                select(User.email, User.first_name, User.last_name, User.email_verified, User.locale, User.created_at)
                .where(User.email.like("read-back-%"))
                .order_by(User.email)
            )
        ).all()
        memberships = (
            await session.execute(
                select(Membership.status, Membership.attributes, Membership.created_at)
                .join(User, User.id == Membership.user_id)
                .where(User.email.like("read-back-%"))
            )
        ).all()
    assert [(row.first_name, row.last_name, row.email_verified, row.locale) for row in rows] == [
        (name, name, number % 2 == 1, "de") for number, name in enumerate(names)
    ]
    assert all(row.created_at.tzinfo is not None for row in rows)
    assert {(row.status, str(row.attributes)) for row in memberships} == {("active", "{}")}
    nul_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$AAAA\x00" + "B" * 39
    failed: list[Outcome] = []
    await _imported(runtime, tenant, f'email,password_hash\nnul@example.com,"{nul_hash}"\n'.encode(), failed)
    assert [(outcome.status, outcome.reason) for outcome in failed] == [
        ("failed", "password_hash: must be printable ASCII")
    ]


async def test_a_batch_that_fails_half_way_leaves_none_of_its_rows(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accounts of a batch whose memberships then fail to be written are taken back with them (PostgreSQL
    writes with COPY on the driver, SQLite every table in one trip to its thread: inside the batch's transaction)."""
    real_copy, real_run_all = store._copy, sqlite_trips._run_all

    async def failing_copy(connection: Any, rows: Any) -> None:
        if rows.table.name == "memberships":
            raise RuntimeError("the connection dropped")
        await real_copy(connection, rows)

    def failing_run_all(connection: Any, statements: Any) -> None:
        real_run_all(connection, statements[:1])  # the accounts
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(store, "_copy", failing_copy)
    monkeypatch.setattr(sqlite_trips, "_run_all", failing_run_all)
    with pytest.raises(RuntimeError, match="the connection dropped"):
        await _imported(runtime, tenant, b"email\nhalf1@example.com\nhalf2@example.com\n", [])
    async with runtime.database.transaction(write=False) as session:
        accounts = await session.scalar(
            select(func.count()).where(User.email.in_(["half1@example.com", "half2@example.com"]))
        )
    assert accounts == 0


async def test_batches_written_at_once_commit_in_file_order_and_hand_on_rows_in_line_order(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the next batch writes its rows while the one before is still writing; each waits for the one
    before to be settled before its turn to commit, and rows not created are handed on in line order."""
    events: list[tuple[str, int]] = []
    _traced_inserts(monkeypatch, events, slow=2)
    outcomes: list[Outcome] = []
    summary = await _imported(runtime, tenant, _rows("b"), outcomes)
    assert (summary.created, summary.failed) == (7, 3)
    assert [(outcome.line, outcome.status) for outcome in outcomes] == [(3, "failed"), (6, "failed"), (10, "failed")]
    assert [line for kind, line in events if kind == "turn"] == [2, 7, 9]
    at_once = events.index(("rows in", 7)) < events.index(("turn", 2))
    assert at_once is (runtime.database.engine.dialect.name == "postgresql")  # SQLite has one writer
    assert {f"b{n}@example.com" for n in range(1, 8)} <= await _member_emails(runtime, tenant)


async def test_a_batch_that_fails_takes_the_batches_written_after_it_with_it(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import stops at the failure, and a later batch already writing rolls back: it waits for the failed one
    before its turn to commit."""
    events: list[tuple[str, int]] = []
    _traced_inserts(monkeypatch, events, slow=2, fail=2)
    with pytest.raises(RuntimeError, match="the disk is full"):
        await _imported(runtime, tenant, _rows("c"), [])
    assert not {f"c{n}@example.com" for n in range(1, 8)} & await _member_emails(runtime, tenant)
    assert ("turn", 7) not in events


async def test_rows_known_not_created_are_handed_on_when_their_batch_fails_to_be_written(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(store, "insert_members", failing)
    outcomes: list[Outcome] = []
    with pytest.raises(RuntimeError, match="the connection dropped"):
        await _imported(runtime, tenant, b"email\nnot an email\nfine@example.com\n", outcomes)
    assert [(outcome.line, outcome.status) for outcome in outcomes] == [(2, "failed")]


async def test_two_imports_with_the_same_addresses_in_opposite_orders_both_finish(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each import's second batch has its account in while its first waits for the other import's second: a cycle
    the database cannot see (one wait of each import is in this process). The second batches give way."""
    monkeypatch.setattr(importer_module, "_WAIT_HOLDING_ROWS_SECONDS", 0.2)
    real = store.insert_members

    async def first_batch_late(session: Any, org_id: str, actor: Any, members: list[Any], *, turn: Any) -> None:
        if members and members[0].line == 2:
            await asyncio.sleep(0.5)  # each import's second batch writes its row first
        await real(session, org_id, actor, members, turn=turn)

    monkeypatch.setattr(store, "insert_members", first_batch_late)
    one, other = b"email\ncross1@example.com\ncross2@example.com\n", b"email\ncross2@example.com\ncross1@example.com\n"
    both = asyncio.gather(
        _imported(runtime, tenant, one, [], batch_size=1), _imported(runtime, tenant, other, [], batch_size=1)
    )
    summaries = await asyncio.wait_for(both, timeout=20)
    assert sum(summary.created for summary in summaries) == 2
    assert sum(summary.present for summary in summaries) == 2
    assert {"cross1@example.com", "cross2@example.com"} <= await _member_emails(runtime, tenant)
