"""Browser sessions of the hosted pages: a random secret in an HttpOnly cookie, its SHA-256 in the database.

A session ends when it expires, when the user signs out (ending the token sessions applications were given
from it), when a new sign-in in the browser replaces it, and whenever the account's sessions end (a new
password, disabling): ``tokens_valid_after`` outdates it like every other credential.
"""

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import SignIn
from tenantry.core.clients import grants
from tenantry.core.clients.models import AuthorizationCode, ClientGrant
from tenantry.core.mfa.schemas import MFA
from tenantry.core.sessions.models import BrowserSession
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.tokens.service import digest
from tenantry.core.users import repository as users
from tenantry.core.users.models import User
from tenantry.db.base import Base, utcnow


@dataclass(frozen=True)
class SignedIn:
    session: BrowserSession
    user: User


async def start(
    session: AsyncSession, user: User, ttl_seconds: int, amr: list[str] | None = None, replaces: str | None = None
) -> str:
    """Open a session for ``user``, who proved ``amr`` (RFC 8176); returns the cookie value (shown to nobody
    else, stored only hashed). A browser holds one session: the one behind ``replaces`` (the cookie it signed
    in with) ends now that the new sign-in succeeded, not before (a link that asks for a sign-in ends nothing).

    What applications were given from the replaced session follows the browser: the same user's token sessions
    become the new session's (signing out later ends them too); another user's end, as if they signed out (the
    browser is no longer theirs)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    opened = BrowserSession(
        user_id=user.id,
        token_hash=digest(secret),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        amr=amr,
    )
    session.add(opened)
    await session.flush()
    current = await resume(session, replaces) if replaces else None
    await end(session, replaces)
    if current is None:  # none, or it had ended (a new password ended its token sessions with it)
        return secret
    replaced = current.session
    if replaced.user_id != user.id:
        await grants.end_browser_session(session, replaced.id)
        return secret
    for model in (ClientGrant, AuthorizationCode):
        await _stamp(session, model, model.browser_session_id == replaced.id, browser_session_id=opened.id)
    return secret


async def resume(session: AsyncSession, secret: str | None) -> SignedIn | None:
    """The live session behind a cookie value and its active account, or None."""
    if not secret or len(secret) > 200:
        return None
    statement = select(BrowserSession).where(BrowserSession.token_hash == digest(secret))
    row = (await session.scalars(statement)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = await users.get_holder(session, row.user_id, row.created_at)
    if user is None:
        return None
    return SignedIn(row, user)


@dataclass(frozen=True)
class SignInNow:
    """A sign-in a credential belongs to, as that credential's next request would find it (``sign_in_now``)."""

    ended: bool
    proven: list[str] | None
    """What its session proved (``amr``, RFC 8176; none recorded: []); None for a token of no session."""


async def sign_in_now(session: AsyncSession, user: User, sign_in: SignIn) -> SignInNow:
    """Whether the sign-in a credential of ``user``'s belongs to has ended, and what it proved, read in one statement:
    it ended once its session (a token session or a browser session) was revoked (signing out), or began before the
    account's sessions were last ended (``tokens_valid_after``: signing out everywhere, a new password, disabling).
    A token of no session ends with a revocation within the second it was issued in (``iat`` counts whole seconds,
    as ``auth.principal`` reads it)."""
    revoked_after = user.tokens_valid_after
    if sign_in.session_id is None:
        ended = revoked_after is not None and sign_in.issued_at.timestamp() <= math.floor(revoked_after.timestamp())
        return SignInNow(ended, None)
    family_ended: ColumnElement[bool] = RefreshToken.revoked_at.is_not(None)
    browser_ended: ColumnElement[bool] = BrowserSession.revoked_at.is_not(None)
    if revoked_after is not None:
        family_ended = or_(family_ended, RefreshToken.created_at < revoked_after)
        browser_ended = or_(browser_ended, BrowserSession.created_at < revoked_after)
    family = exists().where(RefreshToken.family_id == sign_in.session_id, family_ended)
    browser = exists().where(BrowserSession.id == sign_in.session_id, browser_ended)
    browser_amr = select(BrowserSession.amr).where(BrowserSession.id == sign_in.session_id)
    family_amr = select(RefreshToken.amr).where(RefreshToken.family_id == sign_in.session_id)
    latest = family_amr.order_by(RefreshToken.created_at.desc(), RefreshToken.id.desc()).limit(1)
    statement = select(or_(family, browser), browser_amr.scalar_subquery(), latest.scalar_subquery())
    row = (await session.execute(statement)).one()
    return SignInNow(bool(row[0]), list(row[1] or row[2] or []))


async def end(session: AsyncSession, secret: str | None) -> None:
    """Sign out: the session behind the cookie stops working."""
    if not secret:
        return
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.token_hash == digest(secret), BrowserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def sign_out(session: AsyncSession, secret: str | None) -> None:
    """The user signs the browser out (the hosted pages' sign-out, an application's RP-initiated logout): its
    session ends, and so does every token session an application was given from it (``ClientGrant``'s
    ``browser_session_id``), with its access tokens. A new sign-in that replaces the session (``start``)
    leaves them: nobody signed out."""
    if not secret:
        return
    found = select(BrowserSession.id).where(BrowserSession.token_hash == digest(secret))
    browser_session_id = await session.scalar(found)
    await end(session, secret)
    if browser_session_id is not None:
        await grants.end_browser_session(session, browser_session_id)


async def purge(session: AsyncSession, expired_before: datetime) -> None:
    """Forget sessions that expired before ``expired_before``."""
    await session.execute(
        delete(BrowserSession)
        .where(BrowserSession.expires_at < expired_before)
        .execution_options(synchronize_session=False)
    )


async def end_signed_in_by(session: AsyncSession, user_id: str, method: str) -> None:
    """End the account's live browser sessions and token sessions (refresh token families, with their access
    tokens) whose sign-in proved ``method`` (an ``amr`` value): a first-party family's own ``amr``, or an
    application's (``ClientGrant.amr``, as the browser session it came from proved); and spend the authorization
    codes such a session was given and no application redeemed yet. The others go on."""
    await _end_signed_in(session, user_id, lambda amr: method in amr)


async def end_one_factor(session: AsyncSession, user_id: str, but: str | None = None) -> None:
    """End what ``end_signed_in_by`` ends, for every sign-in that proved no second factor (``mfa`` not in its
    ``amr``): the account has one now. They were refused from then on (``challenges.lacks_required_factor``);
    ended, they stay refused when the factor goes again (a new phone, an administrator's reset). ``but``: the
    token session that set the factor up, which goes on (refused the same way, until the factor goes)."""
    await _end_signed_in(session, user_id, lambda amr: MFA not in amr, but)


async def _end_signed_in(
    session: AsyncSession, user_id: str, ended: Callable[[list[str]], bool], but: str | None = None
) -> None:
    """The sessions, token sessions and unredeemed codes of the account whose sign-in's ``amr`` is ``ended``. A
    user has few of them: they are read and picked here, the same on SQLite and PostgreSQL (``amr`` is a JSON
    list)."""
    now = utcnow()
    browsers = select(BrowserSession.id, BrowserSession.amr).where(
        BrowserSession.user_id == user_id, BrowserSession.revoked_at.is_(None)
    )
    families = (
        select(RefreshToken.family_id, RefreshToken.amr, ClientGrant.amr)
        .outerjoin(ClientGrant, ClientGrant.family_id == RefreshToken.family_id)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None), RefreshToken.used_at.is_(None))
    )
    codes = select(AuthorizationCode.id, AuthorizationCode.amr).where(
        AuthorizationCode.user_id == user_id, AuthorizationCode.used_at.is_(None)
    )
    ended_browsers = [row_id for row_id, amr in (await session.execute(browsers)).all() if ended(amr or [])]
    ended_families = {
        family_id
        for family_id, own, granted in (await session.execute(families)).all()
        if ended(own or granted or []) and family_id != but
    }
    spent_codes = [row_id for row_id, amr in (await session.execute(codes)).all() if ended(amr or [])]
    if spent_codes:
        await _stamp(session, AuthorizationCode, AuthorizationCode.id.in_(spent_codes), used_at=now)
    if ended_browsers:
        await _stamp(session, BrowserSession, BrowserSession.id.in_(ended_browsers), revoked_at=now)
    if ended_families:
        live = and_(RefreshToken.family_id.in_(sorted(ended_families)), RefreshToken.revoked_at.is_(None))
        await _stamp(session, RefreshToken, live, revoked_at=now)


async def _stamp(session: AsyncSession, model: type[Base], rows: ColumnElement[bool], **values: datetime | str) -> None:
    """Set ``values`` on the ``rows`` of ``model``'s table, in one UPDATE the session's identity map does not
    follow."""
    await session.execute(update(model).where(rows).values(**values).execution_options(synchronize_session=False))
