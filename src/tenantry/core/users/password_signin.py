"""What a password sign-in reads and writes besides its hash: Core rows and statements built once.

Every password grant reads the account by its email, then, once the password proved right, the login name's
lockout state, the account's second factors, the settings of the organizations that could require one and
the organizations it joined (where the sign-in is recorded), and writes the account's last sign-in, its
refresh token and its audit rows. Through the ORM that was eight statements, each compiled and its rows made
entities on the event loop, which shares the core with the hashing thread; here it is two reads, an update
and two inserts, none of them an entity, all on the one connection the caller took from its session.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import BindParameter, Table, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantry.core.audit.models import AuditEvent
from tenantry.core.credentials import lockout
from tenantry.core.credentials.models import LoginFailure
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership
from tenantry.core.mfa.models import TOTP, MfaFactor, RecoveryCode, WebAuthnCredential
from tenantry.core.orgs.models import ORG_DELETED, Organization
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import User, live_account

_USERS = cast(Table, User.__table__)


class SignInAccount(NamedTuple):
    """The columns of the account a password sign-in needs."""

    id: str
    email: str
    password_hash: str | None
    status: str
    password_change_required: bool
    platform_admin: bool


_ACCOUNT = select(*(_USERS.c[name] for name in SignInAccount._fields)).where(
    _USERS.c.email_key == bindparam("key"), live_account(_USERS.c)
)


async def account(connection: AsyncConnection, email: str) -> SignInAccount | None:
    """The live account whose email is the same identity as ``email`` (``repository.get_by_email``'s), as a row."""
    row = (await connection.execute(_ACCOUNT, {"key": email_key(email)})).first()
    return None if row is None else SignInAccount(*row)


@dataclass(frozen=True)
class SignInFacts:
    """What a sign-in whose password proved right needs next, read in one statement (``facts``)."""

    failures_recorded: bool
    locked_until: datetime | None
    totp: bool
    passkey: bool
    recovery_codes: int
    org_settings: list[dict[str, object]]
    """The settings of the live organizations where the account is an active member (``org_settings_of_member``)."""
    joined_org_ids: list[str]
    """The organizations the account joined, in id order (``memberships.repository.joined_org_ids``)."""

    def lockout_state(self, now: datetime) -> tuple[bool, datetime | None]:
        """``lockout.state`` of the login name, as read with the rest."""
        return lockout.state_of(self.failures_recorded, self.locked_until, now)


_FAILURES = cast(Table, LoginFailure.__table__)
_FACTORS = cast(Table, MfaFactor.__table__)
_PASSKEYS = cast(Table, WebAuthnCredential.__table__)
_CODES = cast(Table, RecoveryCode.__table__)
_MEMBERSHIPS = cast(Table, Membership.__table__)
_ORGS = cast(Table, Organization.__table__)
_USER_ID: BindParameter[str] = bindparam("user_id")
_KEY: BindParameter[str] = bindparam("key")
_ONE = select(literal(1).label("one")).subquery("one")
# One row per membership of the account (one row with NULLs without any), each carrying the account's and the
# login name's scalars: the same conditions as lockout.state, mfa.repository.second_factors and
# org_settings_of_member, and memberships.repository.joined_org_ids.
_FACTS = (
    select(
        exists().where(_FAILURES.c.account_key == _KEY).label("failures_recorded"),
        select(_FAILURES.c.locked_until).where(_FAILURES.c.account_key == _KEY).scalar_subquery(),
        exists().where(_FACTORS.c.user_id == _USER_ID, _FACTORS.c.kind == TOTP, _FACTORS.c.confirmed_at.is_not(None)),
        exists().where(_PASSKEYS.c.user_id == _USER_ID),
        select(func.count()).where(_CODES.c.user_id == _USER_ID, _CODES.c.used_at.is_(None)).scalar_subquery(),
        _MEMBERSHIPS.c.org_id,
        _MEMBERSHIPS.c.consent_pending,
        _MEMBERSHIPS.c.status,
        _ORGS.c.status,
        _ORGS.c.settings,
    )
    .select_from(
        _ONE.outerjoin(_MEMBERSHIPS, _MEMBERSHIPS.c.user_id == _USER_ID).outerjoin(
            _ORGS, _ORGS.c.id == _MEMBERSHIPS.c.org_id
        )
    )
    .order_by(_MEMBERSHIPS.c.org_id)
)


async def facts(connection: AsyncConnection, user_id: str, lockout_key: str) -> SignInFacts:
    """What a sign-in of ``user_id`` whose password proved right needs next (``lockout_key``: its login name's)."""
    rows = list(await connection.execute(_FACTS, {"user_id": user_id, "key": lockout_key}))
    recorded, locked_until, totp, passkey, codes = rows[0][:5]
    org_settings: list[dict[str, object]] = []
    joined: list[str] = []
    for *_, org_id, consent_pending, status, org_status, settings in rows:
        if org_id is None:
            continue
        if consent_pending is False:
            joined.append(org_id)
        if status == MEMBERSHIP_ACTIVE and org_status is not None and org_status != ORG_DELETED:
            org_settings.append(settings)
    return SignInFacts(bool(recorded), locked_until, bool(totp), bool(passkey), int(codes), org_settings, joined)


_SAVE = update(_USERS).where(_USERS.c.id == bindparam("account_id")).values(version=_USERS.c.version + 1)


async def save(connection: AsyncConnection, account_id: str, **values: object) -> None:
    """Write ``values`` (columns of ``users``) to the account, as a flush of its entity would: ``version`` goes
    up by one and ``updated_at`` is now."""
    await connection.execute(_SAVE, {"account_id": account_id, **values})


_INSERT_REFRESH_TOKEN = insert(cast(Table, RefreshToken.__table__))
_INSERT_AUDIT_EVENTS = insert(cast(Table, AuditEvent.__table__))


async def signed_in(
    connection: AsyncConnection,
    account_id: str,
    values: dict[str, object],
    refresh_token: dict[str, Any],
    audit_rows: list[dict[str, Any]],
) -> None:
    """The writes of a finished sign-in: ``values`` to the account (``save``), its refresh token's row
    (``tokens.service.new_refresh``) and its audit rows (``signins.sign_in_rows``), the columns' defaults run
    as in a flush."""
    await save(connection, account_id, **values)
    await connection.execute(_INSERT_REFRESH_TOKEN, refresh_token)
    if audit_rows:
        await connection.execute(_INSERT_AUDIT_EVENTS, audit_rows)
