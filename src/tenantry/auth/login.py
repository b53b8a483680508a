"""The OAuth 2.0 grants the token endpoint serves: ``password``, ``refresh_token`` (second factors: second_factor)."""

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import metrics
from tenantry.auth import access_tokens, brute_force, second_factor
from tenantry.auth.second_factor import MFA_AMR, PASSWORD_AMR
from tenantry.core.audit.signins import PASSWORD, SignIn, insert_sign_in, sign_in_rows
from tenantry.core.clients import grants as client_grants
from tenantry.core.credentials import lockout
from tenantry.core.flows import signin
from tenantry.core.memberships import repository as memberships
from tenantry.core.mfa import challenges
from tenantry.core.mfa import service as mfa
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users import password_signin
from tenantry.core.users import repository as users
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.db.base import utcnow
from tenantry.errors import OAuthError
from tenantry.runtime import Runtime

BAD_CREDENTIALS = "invalid username or password"
SECOND_FACTOR_NOW_REQUIRED = (
    "a second factor is now required and this session signed in without one: sign in again with a second factor"
)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str


async def _tokens_for(
    session: AsyncSession, runtime: Runtime, user_id: str, family_id: str | None, amr: list[str] | None
) -> TokenResponse:
    refresh = await refresh_tokens.issue(session, user_id, refresh_tokens.lifetime_of(runtime.settings), family_id, amr)
    return await _answer(runtime, user_id, refresh, amr)


async def _answer(
    runtime: Runtime, user_id: str, refresh: refresh_tokens.IssuedRefresh, amr: list[str] | None
) -> TokenResponse:
    """The answer with ``refresh`` (stored) and a new access token of its session."""
    settings = runtime.settings
    access = await access_tokens.issue(runtime.keyring, settings, user_id, session_id=refresh.family_id, amr=amr)
    return TokenResponse(access_token=access, expires_in=settings.access_token_ttl_seconds, refresh_token=refresh.token)


async def password_grant(
    session: AsyncSession,
    runtime: Runtime,
    username: str,
    password: str,
    client_ip: str | None,
    *,
    org_id: str | None = None,
) -> TokenResponse:
    """Sign in with email and password. Unknown accounts cost one hash verification, like known ones.

    Failed attempts are counted (``auth.brute_force``) and kept although the answer is an error; a right
    password forgets them only when the sign-in completes here, not when a second factor must follow (its
    answer does: ``core.mfa.challenges``), so wrong second factors keep counting. Sign-ins
    and failures of known accounts are audited in their organizations (only in ``org_id`` when the
    sign-in names one: ``core.audit.signins``); every surface's password sign-in comes through here.

    Everything but the hash runs on the event loop, on the core the hashing thread shares: the account is
    read as a row, and once the password proved right one statement reads the lockout state with what the
    rest of the sign-in needs (``core.users.password_signin``); the writes are single statements, no entity.
    """
    passwords = runtime.passwords
    ahead = await _verified_ahead(runtime, username, password, client_ip)
    connection = await session.connection()  # (after the hash read ahead: on SQLite this takes the write lock)
    account = await password_signin.account(connection, username)
    password_hash = account.password_hash if account is not None else None
    found: list[password_signin.SignInFacts] = []

    async def verify() -> bool:
        if ahead is not None and ahead[0] == password_hash:
            return ahead[1]
        return await passwords.verify(password_hash, password)

    async def state_when_right(key: str, now: datetime) -> tuple[bool, datetime | None]:
        assert account is not None  # (a right password has an account)
        found.append(await password_signin.facts(connection, account.id, key))
        return found[0].lockout_state(now)

    verified = await brute_force.verify_password(
        session, runtime, username, client_ip, verify, state_when_right=state_when_right
    )
    if not verified or account is None or password_hash is None:
        metrics.SIGN_INS.labels(method="password", result="failed").inc()
        if account is not None:
            await _record(session, account.id, found, SignIn(PASSWORD, "bad_credentials", org_id, client_ip))
        raise OAuthError("invalid_grant", BAD_CREDENTIALS, keep_changes=True)
    if account.status != USER_ACTIVE:
        metrics.SIGN_INS.labels(method="password", result="disabled").inc()
        await _record(session, account.id, found, SignIn(PASSWORD, "disabled", org_id, client_ip))
        raise OAuthError("invalid_grant", "the account is disabled", keep_changes=True)
    rehashed = {"password_hash": await passwords.hash(password)} if passwords.needs_rehash(password_hash) else {}
    if account.password_change_required:
        metrics.SIGN_INS.labels(method="password", result="password_change_required").inc()
        user = await users.get_live(session, account.id)
        if user is None:
            raise OAuthError("invalid_grant", BAD_CREDENTIALS)
        if rehashed:
            user.password_hash = rehashed["password_hash"]
        raise await _change_required(session, runtime, user)
    facts = found[0]
    amr = [PASSWORD_AMR]
    required = mfa.required_by(runtime.settings, account.platform_admin, facts.org_settings)
    need = mfa.requirement_from(mfa.methods_from(facts.totp, facts.passkey, facts.recovery_codes), required)
    if need.kind != "none":  # a second factor is still needed: not signed in yet
        if rehashed:
            await password_signin.save(connection, account.id, **rehashed)
        error = await second_factor.needed(session, account, need, amr, org_id)
        metrics.SIGN_INS.labels(method="password", result=error.error).inc()
        raise error
    if facts.failures_recorded:  # signed in now (and only now): the login name's failures are forgotten
        await lockout.clear(session, lockout.account_key(username))
    refresh, token_row = refresh_tokens.new_refresh(account.id, refresh_tokens.lifetime_of(runtime.settings), None, amr)
    events = sign_in_rows(account.id, facts.joined_org_ids, SignIn(PASSWORD, org_id=org_id, client_ip=client_ip))
    await password_signin.signed_in(connection, account.id, {"last_login_at": utcnow(), **rehashed}, token_row, events)
    tokens = await _answer(runtime, account.id, refresh, amr)
    metrics.SIGN_INS.labels(method="password", result="succeeded").inc()
    return tokens


async def _record(
    session: AsyncSession, user_id: str, found: list[password_signin.SignInFacts], sign_in: SignIn
) -> None:
    """Record ``sign_in`` in the organizations the account joined: as read with the facts, when they were."""
    joined = found[0].joined_org_ids if found else await memberships.joined_org_ids(session, user_id)
    await insert_sign_in(session, user_id, joined, sign_in)


async def _verified_ahead(
    runtime: Runtime, username: str, password: str, client_ip: str | None
) -> tuple[str | None, bool] | None:
    """SQLite: the stored hash (read apart) and whether ``password`` matches it, checked before the sign-in's
    write transaction begins, so that the hash is not computed while this process's writers wait for their
    turn (``db.write_turns``). The sign-in uses the answer only if the hash it then reads is the same.
    PostgreSQL writers do not wait for each other: None, the hash is checked in the transaction. None too
    for a client over its failure limit: ``brute_force`` refuses it without computing a hash."""
    if not runtime.database.is_sqlite or await runtime.throttle.failures_exceeded(client_ip):
        return None
    async with runtime.database.transaction(write=False) as reader:
        found = await password_signin.account(await reader.connection(), username)
    password_hash = found.password_hash if found is not None else None
    return password_hash, await runtime.passwords.verify(password_hash, password)


async def _change_required(session: AsyncSession, runtime: Runtime, user: User) -> OAuthError:
    """No tokens until the password changes: a ticket that can only set a new one (POST /auth/password-change)."""
    ticket = await signin.issue_change_ticket(session, runtime.flows, user)
    extra: dict[str, str | int] = {
        "change_ticket": ticket.token,
        "change_ticket_expires_in": runtime.settings.password_change_ticket_ttl_seconds,
    }
    detail = "the password must be changed before signing in"
    return OAuthError("password_change_required", detail, keep_changes=True, extra=extra)


async def tokens_for(
    session: AsyncSession, runtime: Runtime, user: User, amr: list[str] | None = None, *, org_id: str | None = None
) -> TokenResponse:
    """Tokens for a user who proved who they are (``amr``; default: a password), unless a second factor is
    still needed: then the answer is ``mfa_required`` or ``mfa_enrollment_required`` with an ``mfa_token``
    (whose answer records the sign-in, in ``org_id`` when the sign-in named it: ``core.mfa.challenges``)."""
    amr = amr or [PASSWORD_AMR]
    if MFA_AMR not in amr:
        await second_factor.ensure_not_needed(session, runtime, user, amr, org_id)
    user.last_login_at = utcnow()
    return await _tokens_for(session, runtime, user.id, None, amr)


async def refresh_grant(session: AsyncSession, runtime: Runtime, refresh_token: str) -> TokenResponse:
    """Trade a refresh token for new tokens; the old refresh token is spent."""
    spent = await refresh_tokens.spend(session, refresh_token)
    if await client_grants.find(session, spent.family_id) is not None:
        # A client's session (one organization, one client) never turns into a first-party, unbound one.
        raise OAuthError("invalid_grant", "the refresh token is invalid, expired or revoked")
    user = await users.get_live(session, spent.user_id)
    if user is None or user.status != USER_ACTIVE:
        raise OAuthError("invalid_grant", "the account is disabled")
    if user.tokens_valid_after is not None and spent.created_at < user.tokens_valid_after:
        raise OAuthError("invalid_grant", "the session has ended")
    if await challenges.lacks_required_factor(session, runtime.settings, user, spent.amr):
        raise OAuthError("invalid_grant", SECOND_FACTOR_NOW_REQUIRED)
    return await _tokens_for(session, runtime, user.id, spent.family_id, spent.amr)
