"""The rules of the authorization endpoint and of the codes it hands out (RFC 6749, RFC 7636, OIDC Core).

Which organization a sign-in is for: an organization-owned client signs in its own organization's active
members only; a platform client signs in to the organization asked for (``organization``), or to the
user's only one, or asks the user to choose; a user in no organization gets a token bound to none.
A code is single use, bound to its client, redirect URI and PKCE challenge, and kept hashed; a second
redemption ends the session its tokens were issued in.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.clients.models import AuthorizationCode, ClientConsent, OAuthClient
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization, live_org
from tenantry.core.sessions.models import BrowserSession
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.tokens.service import digest
from tenantry.core.users import repository as users
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import OAuthError

_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_INVALID_CODE = "the authorization code is invalid, used, expired or not issued to this client"


@dataclass(frozen=True)
class OrgChoice:
    """Where a sign-in goes: ``org`` (None: no organization), or ``choices`` when the user must pick."""

    org: Organization | None = None
    choices: tuple[Organization, ...] = ()


async def active_orgs(session: AsyncSession, user: User) -> list[Organization]:
    """The live organizations where ``user`` is an active member (invited or disabled ones do not count)."""
    statement = (
        select(Organization)
        .join(Membership, Membership.org_id == Organization.id)
        .where(
            Membership.user_id == user.id,
            Membership.status == MEMBERSHIP_ACTIVE,
            live_org(),
        )
        .order_by(Organization.name, Organization.id)
    )
    return list(await session.scalars(statement))


async def active_membership_org(session: AsyncSession, user: User, org_ref: str) -> Organization:
    """The organization ``org_ref`` (id or slug) when ``user`` is an active member there; else access_denied,
    the same for an organization that does not exist as for one the user is not in."""
    org = await orgs.get_by_ref(session, org_ref)
    if org is not None and any(found.id == org.id for found in await active_orgs(session, user)):
        return org
    raise OAuthError("access_denied", "the user is not an active member of that organization")


async def choose_org(
    session: AsyncSession, client: OAuthClient, user: User, requested: str | None, *, always_ask: bool = False
) -> OrgChoice:
    if client.org_id is not None:
        if requested is not None and requested != client.org_id:
            owner = await orgs.get_by_ref(session, requested)
            if owner is None or owner.id != client.org_id:
                raise OAuthError("access_denied", "this client signs in to its own organization only")
        return OrgChoice(await active_membership_org(session, user, client.org_id))
    if requested is not None:
        return OrgChoice(await active_membership_org(session, user, requested))
    found = await active_orgs(session, user)
    if not found:
        return OrgChoice(None)
    if len(found) == 1 and not always_ask:
        return OrgChoice(found[0])
    return OrgChoice(choices=tuple(found))


def errors_go_back_unsigned(client: OAuthClient) -> bool:
    """Whether the authorization endpoint may send a request's error to the client's redirect URI before the
    user signed in. RFC 9700 section 4.11.2: never automatically to a redirect URI it does not trust. A
    platform client's URIs are the platform admin's choice; an organization-owned client's are its admins',
    and redirecting anyone who follows a link there would make the endpoint their open redirector."""
    return client.org_id is None


def check_pkce_request(client: OAuthClient, challenge: str | None, method: str | None) -> None:
    """S256 only (RFC 7636 section 4.2; ``plain`` is refused), and required of public clients."""
    if challenge is None:
        if method is not None:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
        if client.type == "public":
            raise OAuthError("invalid_request", "public clients must use PKCE (code_challenge, S256)")
        return
    if method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256 (plain is not accepted)")
    if not _CHALLENGE.fullmatch(challenge):
        raise OAuthError("invalid_request", "code_challenge must be 43 to 128 base64url characters")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def _consent(session: AsyncSession, client: OAuthClient, user: User) -> ClientConsent | None:
    statement = select(ClientConsent).where(ClientConsent.client_id == client.id, ClientConsent.user_id == user.id)
    return (await session.scalars(statement)).first()


async def has_consent(session: AsyncSession, client: OAuthClient, user: User, scope: str) -> bool:
    """Whether the user allowed ``client`` every scope of ``scope``: asking for more (``offline_access``,
    say) asks again (OIDC Core 11)."""
    found = await _consent(session, client, user)
    return found is not None and set(scope.split()) <= set(found.scope.split())


async def give_consent(session: AsyncSession, client: OAuthClient, user: User, scope: str) -> None:
    found = await _consent(session, client, user)
    if found is None:
        session.add(ClientConsent(client_id=client.id, user_id=user.id, scope=scope))
    else:
        found.scope = " ".join(dict.fromkeys([*found.scope.split(), *scope.split()]))
    await session.flush()


@dataclass(frozen=True)
class CodeRequest:
    client: OAuthClient
    user: User
    org: Organization | None
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    browser_session_id: str | None
    auth_time: datetime
    amr: list[str] | None = None


async def issue_code(session: AsyncSession, request: CodeRequest, ttl_seconds: int) -> str:
    code = secrets.token_urlsafe(32)
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=request.client.id,
            user_id=request.user.id,
            org_id=request.org.id if request.org is not None else None,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            browser_session_id=request.browser_session_id,
            auth_time=request.auth_time,
            amr=request.amr,
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        )
    )
    await session.flush()
    return code


async def redeem_code(
    session: AsyncSession, client: OAuthClient, code: str, redirect_uri: str | None, verifier: str | None
) -> AuthorizationCode:
    """Spend a code. A code spent before ends the session issued from it (RFC 6749 section 4.1.2).

    The code's row is locked (PostgreSQL; SQLite's writers take turns already) until the transaction ends, so
    that redemptions of one code are decided one at a time: a second one at once waits for the first, then
    finds the code spent and the session it issued, and ends it like a second one later. Without the lock it
    read the code unspent and only lost the race to spend it, leaving the first one's session alive.
    """
    statement = select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
    statement = statement.with_for_update().execution_options(populate_existing=True)
    row = (await session.scalars(statement)).first()
    if row is None or row.client_id != client.id:
        raise OAuthError("invalid_grant", _INVALID_CODE)
    if row.used_at is not None:
        if row.family_id is not None:
            await refresh_tokens.revoke_family(session, row.family_id)
        raise OAuthError("invalid_grant", _INVALID_CODE, keep_changes=True)
    if row.expires_at <= utcnow():
        raise OAuthError("invalid_grant", _INVALID_CODE)
    if redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the one the code was issued for")
    if row.code_challenge is not None:
        if verifier is None or not _VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_grant", "code_verifier is missing or malformed")
        if not hmac.compare_digest(s256(verifier), row.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    elif verifier is not None:
        raise OAuthError("invalid_grant", "this code was issued without a code_challenge")
    if not await _sign_in_stands(session, row):
        raise OAuthError("invalid_grant", "the sign-in this code was issued for has ended")
    await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id)
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return row


async def _sign_in_stands(session: AsyncSession, code: AuthorizationCode) -> bool:
    """A code speaks for the sign-in it was issued from, and ends with it: not once the user ended every
    session after signing in (a new password, "sign out everywhere", disabling), nor once the browser session
    it came from signed out. Otherwise a code held back (a stolen cookie buys one) outlived them all."""
    if await users.get_holder(session, code.user_id, code.auth_time) is None:
        return False
    if code.browser_session_id is None:
        return True
    live = exists().where(BrowserSession.id == code.browser_session_id, BrowserSession.revoked_at.is_(None))
    return bool(await session.scalar(select(live)))


async def remember_family(session: AsyncSession, code: AuthorizationCode, family_id: str) -> None:
    """The session a code's tokens belong to, so a replay of the code can end it."""
    await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code.id)
        .values(family_id=family_id)
        .execution_options(synchronize_session=False)
    )


async def purge_codes(session: AsyncSession, expired_before: datetime) -> None:
    """Forget codes that expired before ``expired_before``, redeemed or not: a code that old is refused as
    unknown, and its replay no longer ends the session it was redeemed for (a replay long after says nothing
    of the first redemption, which the client made within the code's minutes)."""
    await session.execute(
        delete(AuthorizationCode)
        .where(AuthorizationCode.expires_at < expired_before)
        .execution_options(synchronize_session=False)
    )
