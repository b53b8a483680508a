"""Refresh tokens: opaque, stored hashed, rotated on every use; reuse of a spent one revokes its family."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.clients.models import ClientGrant
from tenantry.core.credentials import lockout
from tenantry.core.mfa import repository as mfa
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.models import User, live_account
from tenantry.db.base import utcnow
from tenantry.db.ids import new_id
from tenantry.db.versioning import write_all
from tenantry.errors import OAuthError
from tenantry.settings import Settings

_INVALID = "the refresh token is invalid, expired or revoked"


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret: enough for lookups, never reversible."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedRefresh:
    token: str
    family_id: str


@dataclass(frozen=True)
class Lifetime:
    """How long a session's refresh tokens live: ``ttl_seconds`` from each one's issue (renewed by every
    refresh, so an idle session ends), and never past ``session_max_seconds`` from the sign-in that started
    the session (so a session used every day ends too, and its user signs in again)."""

    ttl_seconds: int
    session_max_seconds: int


def lifetime_of(settings: Settings) -> Lifetime:
    return Lifetime(settings.refresh_token_ttl_seconds, settings.session_max_lifetime_seconds)


def _expiry(lifetime: Lifetime, family_id: str, now: datetime) -> datetime:
    """When a refresh token of ``family_id`` issued ``now`` expires. A family's id is time-ordered
    (``db.ids``): its first 8 characters are the second the session started, so no row is read for it."""
    started = datetime.fromtimestamp(int(family_id[:8], 16), UTC)
    expires = min(
        now + timedelta(seconds=lifetime.ttl_seconds), started + timedelta(seconds=lifetime.session_max_seconds)
    )
    if expires <= now:
        raise OAuthError("invalid_grant", "the session has reached its longest lifetime: sign in again")
    return expires


async def issue(
    session: AsyncSession,
    user_id: str,
    lifetime: Lifetime,
    family_id: str | None = None,
    amr: list[str] | None = None,
    *,
    continues: str | None = None,
) -> IssuedRefresh:
    """A new refresh token of ``user_id`` (in ``family_id``, or a new family), inserted now: an append-only row
    written with one INSERT on the session's connection, after whatever the session holds (the account, when
    it is new in this unit of work). A new family that ``continues`` another (token exchange) started when that
    one did: its id carries that one's second, so exchanging adds no time to the session's longest lifetime."""
    issued, row = new_refresh(user_id, lifetime, family_id or _continued(continues), amr)
    if session.new or session.dirty or session.deleted:
        await session.flush()
    await (await session.connection()).execute(_INSERT, row)
    return issued


def _continued(family_id: str | None) -> str | None:
    """A new family id whose start is ``family_id``'s (None: a new session, started now)."""
    return None if family_id is None else family_id[:8] + secrets.token_hex(8)


def new_refresh(
    user_id: str, lifetime: Lifetime, family_id: str | None = None, amr: list[str] | None = None
) -> tuple[IssuedRefresh, dict[str, Any]]:
    """A new refresh token (``issue``'s) and its row, every column given, for a caller that inserts it itself."""
    token = secrets.token_urlsafe(32)
    family = family_id or new_id()
    now = utcnow()
    row = {
        "id": new_id(),
        "user_id": user_id,
        "family_id": family,
        "token_hash": digest(token),
        "created_at": now,
        "expires_at": _expiry(lifetime, family, now),
        "amr": amr,
    }
    return IssuedRefresh(token=token, family_id=family), row


_INSERT = insert(cast(Table, RefreshToken.__table__))


async def find(session: AsyncSession, token: str) -> RefreshToken | None:
    """The refresh token row behind ``token`` (whatever its state), or None."""
    if len(token) > 200:
        return None
    return (await session.scalars(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))).first()


async def spend(session: AsyncSession, token: str) -> RefreshToken:
    """Mark a refresh token used and return it; a second use revokes every token of its family."""
    row = (await session.scalars(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise OAuthError("invalid_grant", _INVALID)
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_family(session, row.family_id)
        raise OAuthError("invalid_grant", _INVALID, keep_changes=True)
    return row


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    """End a session (refresh family) and every session exchanged from it (RFC 8693 token exchange), at any
    depth: whoever ends a session (sign-out, revocation, reuse detection) ends what it was traded for."""
    families, exchanged = {family_id}, [family_id]
    while exchanged:
        children = select(ClientGrant.family_id).where(ClientGrant.parent_family_id.in_(exchanged))
        exchanged = [child for child in await session.scalars(children) if child not in families]
        families.update(exchanged)
    await _revoke(session, RefreshToken.family_id.in_(sorted(families)), utcnow())


async def _revoke(session: AsyncSession, families: ColumnElement[bool], now: datetime) -> None:
    """Revoke the live refresh tokens of the sessions ``families`` picks: their access tokens stop with them."""
    await session.execute(
        update(RefreshToken)
        .where(families, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


# Built once: it runs on every request a user makes. A NULL family never matches, so no session has ended.
_LIVE_USER_AND_SESSION = select(
    User,
    exists()
    .where(RefreshToken.family_id == bindparam("family_id"), RefreshToken.revoked_at.is_not(None))
    .label("session_ended"),
).where(User.id == bindparam("user_id"), live_account())


async def live_user_and_session(session: AsyncSession, user_id: str, family_id: str | None) -> tuple[User | None, bool]:
    """The account behind a token (None when deleted) and whether its session (refresh family) has ended."""
    result = await session.execute(_LIVE_USER_AND_SESSION, {"user_id": user_id, "family_id": family_id})
    row = result.first()
    return (None, False) if row is None else (row[0], bool(row[1]))


async def session_ended(session: AsyncSession, family_id: str) -> bool:
    """True once the session (refresh family) was revoked: by sign-out, reuse detection or ending all sessions."""
    statement = select(RefreshToken.id).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
    return (await session.scalar(statement.limit(1))) is not None


_CHUNK = 1000  # ids per IN list: well under SQLite's bound on bound parameters


async def end_sessions_in_bulk(session: AsyncSession, users: list[User]) -> None:
    """``revoke_sessions`` for many accounts at once (an organization's deletion, a partner's revocation), a thousand
    per statement and without the accounts' locks: an advisory lock each, held until the commit, ran PostgreSQL out
    of shared memory (``max_locks_per_transaction``) at about 15,000 accounts. A sign-in deciding meanwhile needs no
    lock to lose what this ends, as ``_end_sessions`` writes the rows it would spend first: one that reaches a second
    step after this deleted it finds it gone; one that answered it first is waited for, and what it issued is
    committed before this revokes, and older than ``tokens_valid_after``, taken after that wait. A link not spent
    yet is dead once ``tokens_valid_after`` passes it, as it is read when used, but one being redeemed meanwhile
    read the account before: a caller whose accounts stay active and whose links another may hold voids those
    first (a partner's revocation: ``onetime.service.void_all``). A sign-in with a password (which this does not
    end) is one after this; every access token, refresh and second step is checked against an active account, so
    nothing issued meanwhile serves an account deleted or disabled here.
    The accounts' rows are written in one UPDATE per thousand (``write_all``)."""
    await write_all(session, users, tokens_valid_after=await _end_sessions(session, users))


async def revoke_sessions(session: AsyncSession, user: User) -> None:
    """End every session of the user: access tokens issued before now and all refresh tokens stop working.
    What a session began and did not finish ends with it: pending second steps, and an authenticator app's
    secret set up and never confirmed (whoever began it has seen it; the owner's next setup gets a new one)."""
    await lockout.one_at_a_time(session, lockout.account_key(user.email))  # before the challenges: one lock order
    user.tokens_valid_after = await _end_sessions(session, [user])  # flushed with its other changes: one version


async def _end_sessions(session: AsyncSession, users: list[User]) -> datetime:
    """Drop what the accounts' sign-ins began and did not finish (second steps, unconfirmed factors), then revoke
    their refresh tokens, a thousand accounts per statement; the time from which their access tokens are outdated
    (``tokens_valid_after``), taken after any wait for a sign-in holding one of those rows
    (``end_sessions_in_bulk``)."""
    user_ids = [user.id for user in users]
    chunks = [user_ids[start : start + _CHUNK] for start in range(0, len(user_ids), _CHUNK)]
    for chunk in chunks:
        await mfa.delete_unfinished_of_all(session, chunk)
    now = utcnow()
    for chunk in chunks:
        await _revoke(session, RefreshToken.user_id.in_(chunk), now)
    return now


async def purge(session: AsyncSession, expired_before: datetime) -> None:
    """Forget refresh tokens that expired before ``expired_before``. An expired token is refused before its reuse
    is looked for (``spend``), and the access tokens of its session ended long before (they live a day at
    most): a token that old decides nothing. A session's later tokens, and the revocation they record, stay."""
    await session.execute(
        delete(RefreshToken)
        .where(RefreshToken.expires_at < expired_before)
        .execution_options(synchronize_session=False)
    )
