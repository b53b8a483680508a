"""Reads and writes of an import, a batch at a time, in few statements (COPY on PostgreSQL)."""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import JSON, Column, ColumnDefault, Table, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.models import AuditEvent
from tenantry.core.events.catalog import event_type_for
from tenantry.core.memberships import grant_versions
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, MEMBERSHIP_INVITED, Membership, membership_roles
from tenantry.core.mfa.models import TOTP, MfaFactor
from tenantry.core.resources.models import membership_resource_roles
from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import USER_ACTIVE, User, live_account
from tenantry.db import sqlite_trips
from tenantry.db.base import utcnow
from tenantry.db.ids import new_id, new_ids

_LOOKUP_CHUNK = 1000
_CREATED_EVENT = event_type_for("user.created")


@dataclass
class NewMember:
    line: int
    email: str
    first_name: str
    last_name: str
    attributes: dict[str, Any]
    password_hash: str | None
    email_verified: bool
    status: str | None
    role_ids: list[str]
    scoped: list[tuple[str, str]]
    """(role id, resource id) pairs."""
    totp_sealed: str | None = None
    """The imported authenticator app's secret, sealed (``core.secretbox``)."""
    locale: str | None = None
    """The account's language (its emails, an import's invitation included, and pages speak it)."""
    attach: bool = False
    """The address has an account outside the organization, to be asked to join (``Importer.consent_with``)."""
    user_id: str = field(default_factory=new_id)
    key: str = ""
    """``email_key(email)``, worked out once."""

    def __post_init__(self) -> None:
        self.key = self.key or email_key(self.email)

    @property
    def invited(self) -> bool:
        """Created without a password and waiting for one (an invitation's business)."""
        return self.password_hash is None and self.status in (None, MEMBERSHIP_INVITED)


async def existing_accounts(session: AsyncSession, org_id: str, emails: Sequence[str]) -> dict[str, bool]:
    """Live accounts among ``emails``, by email key -> whether each is already a member of the organization."""
    found: dict[str, bool] = {}
    keys = sorted({email_key(email) for email in emails})
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        statement = (
            select(User.email_key, Membership.id)
            .outerjoin(Membership, (Membership.user_id == User.id) & (Membership.org_id == org_id))
            .where(User.email_key.in_(chunk), live_account())
        )
        for key, membership_id in await session.execute(statement):
            found[key] = membership_id is not None
    return found


def _constant(column: Column[Any]) -> Any:
    """What the model writes in ``column`` when a row leaves it out (its Python-side default, else NULL)."""
    default = column.default
    if default is None:
        return None
    assert isinstance(default, ColumnDefault)
    return default.arg(None) if default.is_callable else default.arg


@dataclass(frozen=True)
class _Rows:
    """One table's rows of a batch, as tuples in the order of ``columns``."""

    table: Table
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _full(table: Table, named: dict[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """Every column of ``table`` with what a row holds unless ``named`` says otherwise (the model's defaults): a
    batch's rows share these values, and the per-row ones are put in their place."""
    columns = tuple(column.name for column in table.columns)
    return columns, tuple(named[name] if name in named else _constant(table.c[name]) for name in columns)


_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}


def _insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    """SQLite: the INSERT of a batch's rows of ``columns`` into ``table``, given as one parameter, a JSON array of
    arrays, that ``json_each`` reads row by row (built once).

    Executed for many rows instead, each row's parameters were bound holding the GIL and each row's step let it
    go: the thread writing a batch then waited for the GIL once a row while the importer's other thread read and
    checked the next batch, and the two threads took turns. One statement binds one value and runs the whole
    batch without the GIL (5,000 users, in sqlite3: 29-32 -> 16-20 µs a row alone; 6,618 -> 20 µs a row beside
    a thread busy in Python). ``json_extract``, not ``->>``, which needs SQLite 3.38; the values are scalars, which
    both read alike (a JSON string as its text, true as 1). A NUL would end the text: none is storable here
    (``fields.storable``, ``hashes.scheme_of``)."""
    key = (table.name, columns)
    if key not in _INSERTS:
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in columns)
        values = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(columns)))
        _INSERTS[key] = f"INSERT INTO {quote(table.name)} ({names}) SELECT {values} FROM json_each(?)"  # noqa: S608
    return _INSERTS[key]


async def _insert_all(session: AsyncSession, tables: Sequence[_Rows]) -> None:
    """One statement per table and batch: COPY on PostgreSQL; on SQLite an INSERT of a JSON array (``_insert_sql``),
    every table's in one trip to the connection's thread (``sqlite_trips.run_in_one_trip``). Values are converted as
    SQLAlchemy would bind them (JSON serialized, datetimes as the dialect stores them)."""
    connection = await session.connection()
    dialect = connection.dialect
    filled = [rows for rows in tables if rows.rows]
    if dialect.name != "postgresql":
        statements = []
        for rows in filled:
            processors = [rows.table.c[name].type._cached_bind_processor(dialect) for name in rows.columns]
            batch = json.dumps(_processed(rows.rows, processors), ensure_ascii=False, separators=(",", ":"))
            statements.append((_insert_sql(rows.table, rows.columns, dialect), (batch,)))
        await sqlite_trips.run_in_one_trip(connection, statements)
        return
    for rows in filled:
        await _copy(connection, rows)


async def _copy(connection: AsyncConnection, rows: _Rows) -> None:
    """PostgreSQL: ``rows`` by COPY, in the transaction ``connection`` holds."""
    json_columns = {column.name for column in rows.table.columns if isinstance(column.type, JSON)}
    processors = [json.dumps if name in json_columns else None for name in rows.columns]
    records = _processed(rows.rows, processors)
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it runs: a COPY on the driver before
        # any committed on its own, and a batch that failed half-way kept the rows written so far.
        await connection.exec_driver_sql("SELECT 1")
    try:
        await driver.copy_records_to_table(rows.table.name, records=records, columns=list(rows.columns))
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(f"COPY {rows.table.name}", None, error) from error


def _processed(rows: list[tuple[Any, ...]], processors: Sequence[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    """``rows`` with each value put through its column's processor; a value the previous row shared (a batch's
    timestamp, an empty JSON object) is converted once."""
    if not any(processors):
        return rows
    columns = [list(column) for column in zip(*rows, strict=True)]
    for index, process in enumerate(processors):
        if process is None:
            continue
        values, last, converted = columns[index], object(), None
        for position, value in enumerate(values):
            if value is not last:
                last, converted = value, process(value)
            values[position] = converted
    return list(zip(*columns, strict=True))


_USERS = cast(Table, User.__table__)
_MEMBERSHIPS = cast(Table, Membership.__table__)
_EVENTS = cast(Table, AuditEvent.__table__)
_FACTORS = cast(Table, MfaFactor.__table__)


async def insert_members(
    session: AsyncSession,
    org_id: str,
    actor: Actor,
    members: list[NewMember],
    *,
    turn: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Accounts, memberships, grants and one audit event per account: one multi-row INSERT per table. ``turn``,
    when given, is awaited after the rows are written (even when there are none) and before the role versions
    are bumped: another transaction bumping the same versions may commit there (``imports.importer``)."""
    now = utcnow()
    user_columns, user_row = _full(_USERS, {"status": USER_ACTIVE, "created_at": now, "updated_at": now})
    u_id, u_email, u_key, u_first, u_last, u_locale, u_verified, u_hash = (
        user_columns.index(name)
        for name in ("id", "email", "email_key", "first_name", "last_name", "locale", "email_verified", "password_hash")
    )
    membership_columns, membership_row = _full(_MEMBERSHIPS, {"org_id": org_id, "created_at": now, "updated_at": now})
    m_id, m_user, m_status, m_attributes = (
        membership_columns.index(name) for name in ("id", "user_id", "status", "attributes")
    )
    event_columns, event_row = _full(
        _EVENTS,
        {
            "org_id": org_id,
            "action": "user.created",
            # Set here: the model's defaults for these read the ORM's execution context, which these rows skip.
            "event_type": _CREATED_EVENT,
            "dispatch_pending": True if _CREATED_EVENT is not None else None,
            "actor_user_id": actor.user_id,
            "actor_api_key_id": actor.api_key_id,
            "actor_client_id": actor.client_id,
            "impersonator_id": actor.impersonator_id,
            "partner_org_id": actor.partner_org_id,
            "target_type": "user",
            "request_id": actor.request_id,
            "client_ip": actor.client_ip,
            "created_at": now,
        },
    )
    e_id, e_target, e_details = (event_columns.index(name) for name in ("id", "target_id", "details"))
    factor_columns, factor_row = _full(_FACTORS, {"kind": TOTP, "created_at": now, "confirmed_at": now})
    f_id, f_user, f_secret = (factor_columns.index(name) for name in ("id", "user_id", "secret_sealed"))
    no_attributes: dict[str, Any] = {}
    users: list[tuple[Any, ...]] = []
    memberships: list[tuple[Any, ...]] = []
    grants: list[tuple[Any, ...]] = []
    scoped: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    factors: list[tuple[Any, ...]] = []
    ids = iter(new_ids(2 * len(members)))
    for member in members:
        user_id, membership_id = member.user_id, next(ids)
        user = list(user_row)
        user[u_id], user[u_email], user[u_key] = user_id, member.email, member.key
        user[u_first], user[u_last], user[u_locale] = member.first_name, member.last_name, member.locale
        user[u_verified], user[u_hash] = member.email_verified, member.password_hash
        users.append(tuple(user))
        membership = list(membership_row)
        membership[m_id], membership[m_user] = membership_id, user_id
        membership[m_attributes] = member.attributes or no_attributes  # one object: serialized once
        membership[m_status] = member.status or (MEMBERSHIP_ACTIVE if member.password_hash else MEMBERSHIP_INVITED)
        memberships.append(tuple(membership))
        if member.totp_sealed is not None:
            factor = list(factor_row)
            factor[f_id], factor[f_user], factor[f_secret] = new_id(), user_id, member.totp_sealed
            factors.append(tuple(factor))
        grants.extend((membership_id, role_id) for role_id in member.role_ids)
        scoped.extend((membership_id, role_id, resource_id) for role_id, resource_id in member.scoped)
        event = list(event_row)
        event[e_id], event[e_target], event[e_details] = next(ids), user_id, {"via": "import", "line": member.line}
        events.append(tuple(event))
    await _insert_all(
        session,
        (
            _Rows(_USERS, user_columns, users),
            _Rows(_MEMBERSHIPS, membership_columns, memberships),
            _Rows(membership_roles, ("membership_id", "role_id"), grants),
            _Rows(membership_resource_roles, ("membership_id", "role_id", "resource_id"), scoped),
            _Rows(_EVENTS, event_columns, events),
            _Rows(_FACTORS, factor_columns, factors),
        ),
    )
    if turn is not None:
        await turn()
    touched = {(org_id, role_id) for _membership_id, role_id in grants}
    if touched:  # these rows bypass the ORM, so the SCIM group versions are bumped here
        await grant_versions.bump(session, touched)
