"""One-time tokens: 256 random bits from ``secrets``, kept as a SHA-256, used once, short-lived.

Issuing a token voids the user's earlier unused tokens of the same purpose. A token is also dead when
the account changed since it was issued: a new password (or disabling) moves ``tokens_valid_after``
past it (but for the purposes ``OUTLIVE_NEW_PASSWORD``; a disabled account redeems none), and a mailed token
names the address it was sent to.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.onetime.models import OUTLIVE_NEW_PASSWORD, OneTimeToken
from tenantry.core.tokens.service import digest
from tenantry.core.users import repository as users
from tenantry.core.users.emailkey import email_key
from tenantry.core.users.models import User
from tenantry.db.base import utcnow

TOKEN_BYTES = 32
_CHUNK = 1000  # ids per IN list: well under SQLite's bound on bound parameters


@dataclass(frozen=True)
class IssuedToken:
    token: str
    """The secret itself; it leaves in a link or an answer and is never stored."""
    row: OneTimeToken

    @property
    def expires_at(self) -> datetime:
        return self.row.expires_at


@dataclass(frozen=True)
class Redeemable:
    """A live token and the active account it belongs to."""

    row: OneTimeToken
    user: User


async def issue(
    session: AsyncSession,
    purpose: str,
    user: User,
    ttl_seconds: int,
    *,
    org_id: str | None = None,
    mailed: bool = False,
    details: dict[str, Any] | None = None,
    void_older: bool = True,
) -> IssuedToken:
    """A new token for ``purpose``; the user's older unused ones of that purpose stop working (unless
    ``void_older`` is false: the codes of two browsers signing in at once both stay good)."""
    now = utcnow()
    if void_older:
        await void(session, user, purpose, at=now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = OneTimeToken(
        purpose=purpose,
        user_id=user.id,
        org_id=org_id,
        email=user.email if mailed else None,
        token_hash=digest(token),
        details=details or {},
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(token, row)


async def void(session: AsyncSession, user: User, purpose: str, *, at: datetime | None = None) -> None:
    """The account's unused tokens of ``purpose`` stop working (as of ``at``, by default now)."""
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.voided_at.is_(None),
        )
        .values(voided_at=at or utcnow())
        .execution_options(synchronize_session=False)
    )


async def void_all(session: AsyncSession, user_ids: list[str], purpose: str) -> None:
    """``void`` for many accounts, a thousand per statement: one that someone else may hold (a partner's magic links,
    when its link is revoked). A redemption under way is waited for; one that comes later waits for this, then finds
    its token voided (``redeem``)."""
    now = utcnow()
    for start in range(0, len(user_ids), _CHUNK):
        await session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.user_id.in_(user_ids[start : start + _CHUNK]),
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
                OneTimeToken.voided_at.is_(None),
            )
            .values(voided_at=now)
            .execution_options(synchronize_session=False)
        )


async def find(session: AsyncSession, purpose: str, token: str) -> Redeemable | None:
    """The live token of ``purpose`` matching ``token`` and its account, or None; nothing is spent."""
    if not token or len(token) > 200:
        return None
    statement = select(OneTimeToken).where(OneTimeToken.token_hash == digest(token), OneTimeToken.purpose == purpose)
    row = (await session.scalars(statement)).first()
    if row is None or row.used_at is not None or row.voided_at is not None or row.expires_at <= utcnow():
        return None
    issued_at = None if row.purpose in OUTLIVE_NEW_PASSWORD else row.created_at
    user = await users.get_holder(session, row.user_id, issued_at)
    if user is None:
        return None
    if row.email is not None and email_key(row.email) != user.email_key:
        return None
    return Redeemable(row, user)


async def redeem(session: AsyncSession, purpose: str, token: str) -> Redeemable | None:
    """Spend the token: exactly one of any number of concurrent redemptions gets it, the others None; None too
    when it was voided meanwhile (``void_all``: this waits for that to commit, then reads the row again)."""
    found = await find(session, purpose, token)
    if found is None:
        return None
    spent = await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == found.row.id, OneTimeToken.used_at.is_(None), OneTimeToken.voided_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return found


async def purge(session: AsyncSession, expired_before: datetime) -> None:
    """Forget tokens that expired before ``expired_before``."""
    await session.execute(
        delete(OneTimeToken)
        .where(OneTimeToken.expires_at < expired_before)
        .execution_options(synchronize_session=False)
    )
