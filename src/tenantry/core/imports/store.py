"""Reads and writes of an import, a batch at a time, in few statements (COPY on PostgreSQL)."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import JSON, ColumnDefault, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.models import AuditEvent
from tenantry.core.events.catalog import event_type_for
from tenantry.core.memberships import grant_versions
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, MEMBERSHIP_INVITED, Membership, membership_roles
from tenantry.core.mfa.models import TOTP, MfaFactor
from tenantry.core.resources.models import membership_resource_roles
from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import USER_ACTIVE, USER_DELETED, User
from tenantry.db.base import utcnow
from tenantry.db.ids import new_id

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
    user_id: str = field(default_factory=new_id)

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
            .where(User.email_key.in_(chunk), User.status != USER_DELETED)
        )
        for key, membership_id in await session.execute(statement):
            found[key] = membership_id is not None
    return found


def _factory(default: object) -> Callable[[], Any]:
    assert isinstance(default, ColumnDefault)
    arg = default.arg
    if default.is_callable:
        return lambda: arg(None)  # SQLAlchemy wraps every callable default to take the execution context
    return lambda: arg


def _completed(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with every column the model fills by itself (Python-side defaults), as an ORM insert would have."""
    missing = [column for column in table.columns if column.name not in rows[0] and column.default is not None]
    if not missing:
        return rows
    defaults = {column.name: _factory(column.default) for column in missing}
    return [row | {name: make() for name, make in defaults.items()} for row in rows]


async def _insert_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """One statement per table and batch: COPY on PostgreSQL, an INSERT executed for many rows on SQLite."""
    if not rows:
        return
    rows = _completed(table, rows)
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    json_columns = {column.name for column in table.columns if isinstance(column.type, JSON)}
    records = [tuple(json.dumps(row[name]) if name in json_columns else row[name] for name in columns) for row in rows]
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(f"COPY {table.name}", None, error) from error


async def insert_members(session: AsyncSession, org_id: str, actor: Actor, members: list[NewMember]) -> None:
    """Accounts, memberships, grants and one audit event per account: one multi-row INSERT per table."""
    now = utcnow()
    users: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    grants: list[dict[str, Any]] = []
    scoped: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    factors: list[dict[str, Any]] = []
    for member in members:
        user_id, membership_id = member.user_id, new_id()
        users.append(
            {
                "id": user_id,
                "email": member.email,
                "email_key": email_key(member.email),
                "first_name": member.first_name,
                "last_name": member.last_name,
                "locale": member.locale,
                "avatar_url": None,
                "status": USER_ACTIVE,
                "email_verified": member.email_verified,
                "password_hash": member.password_hash,
                "password_change_required": False,
                "platform_admin": False,
                "last_login_at": None,
                "tokens_valid_after": None,
                "deleted_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        status = member.status or (MEMBERSHIP_ACTIVE if member.password_hash else MEMBERSHIP_INVITED)
        memberships.append(
            {
                "id": membership_id,
                "org_id": org_id,
                "user_id": user_id,
                "status": status,
                "attributes": member.attributes,
                "created_at": now,
                "updated_at": now,
            }
        )
        if member.totp_sealed is not None:
            factors.append(
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "kind": TOTP,
                    "secret_sealed": member.totp_sealed,
                    "last_used_step": None,
                    "created_at": now,
                    "confirmed_at": now,
                }
            )
        grants.extend({"membership_id": membership_id, "role_id": role_id} for role_id in member.role_ids)
        scoped.extend(
            {"membership_id": membership_id, "role_id": role_id, "resource_id": resource_id}
            for role_id, resource_id in member.scoped
        )
        events.append(
            {
                "id": new_id(),
                "org_id": org_id,
                "action": "user.created",
                # Set here: the model's defaults for these read the ORM's execution context, which these rows skip.
                "event_type": _CREATED_EVENT,
                "dispatch_pending": True if _CREATED_EVENT is not None else None,
                "actor_user_id": actor.user_id,
                "actor_api_key_id": actor.api_key_id,
                "impersonator_id": actor.impersonator_id,
                "partner_org_id": actor.partner_org_id,
                "target_type": "user",
                "target_id": user_id,
                "request_id": actor.request_id,
                "client_ip": actor.client_ip,
                "details": {"via": "import", "line": member.line},
                "created_at": now,
            }
        )
    for table, rows in (
        (User.__table__, users),
        (Membership.__table__, memberships),
        (membership_roles, grants),
        (membership_resource_roles, scoped),
        (AuditEvent.__table__, events),
        (MfaFactor.__table__, factors),
    ):
        await _insert_rows(session, table, rows)  # type: ignore[arg-type]
    touched = {(org_id, grant["role_id"]) for grant in grants}
    if touched:  # these rows bypass the ORM, so the SCIM group versions are bumped here
        await session.execute(grant_versions.bump_statement(session.get_bind().dialect.name, touched))
