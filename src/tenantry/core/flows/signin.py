"""What follows a proven identity: the ticket that replaces a password that must change, and the one-time
code that hands a sign-in on the hosted pages to an organization's application."""

from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.flows.context import DeadToken, Flows, acting_as, check_new_password
from tenantry.core.memberships import repository as memberships
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import AUTHORIZATION_CODE, PASSWORD_CHANGE
from tenantry.core.onetime.service import IssuedToken
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput, OAuthError

LOGIN_REDIRECT_URL = "login_redirect_url"


async def issue_change_ticket(session: AsyncSession, flows: Flows, user: User) -> IssuedToken:
    """A short-lived ticket, handed out instead of tokens when the password must change first."""
    return await onetime.issue(session, PASSWORD_CHANGE, user, flows.settings.password_change_ticket_ttl_seconds)


async def change_required_password(
    session: AsyncSession, flows: Flows, actor: Actor, ticket: str, new_password: str
) -> User:
    """Replace the password with the ticket; the account may sign in again afterwards."""
    found = await onetime.find(session, PASSWORD_CHANGE, ticket)
    if found is None:
        raise DeadToken("change_ticket")
    user = found.user
    await check_new_password(session, user, new_password, field="new_password")
    if await flows.passwords.verify(user.password_hash, new_password):
        raise InvalidInput([FieldError("new_password", "must differ from the current password")])
    if await onetime.redeem(session, PASSWORD_CHANGE, ticket) is None:
        raise DeadToken("change_ticket")
    await users.store_password(session, user, new_password, flows.passwords)
    user.password_change_required = False
    user.last_login_at = utcnow()
    await session.flush()
    record(session, acting_as(actor, user), "user.password_changed", org_id=None, target_type="user", target_id=user.id)
    return user


async def login_redirect(
    session: AsyncSession, flows: Flows, user: User, org: Organization | None, state: str | None = None
) -> str | None:
    """Where a browser goes after signing in for ``org``: its ``login_redirect_url`` with a one-time ``code``
    (and the caller's ``state``), when it has one and the user is an active member; else None."""
    target = org.settings.get(LOGIN_REDIRECT_URL) if org is not None else None
    if org is None or not isinstance(target, str) or not target:
        return None
    membership = await memberships.get(session, org.id, user.id)
    if membership is None or membership.status != MEMBERSHIP_ACTIVE:
        return None
    ttl = flows.settings.authorization_code_ttl_seconds
    issued = await onetime.issue(session, AUTHORIZATION_CODE, user, ttl, org_id=org.id, void_older=False)
    parts = urlsplit(target)
    query = urlencode({"code": issued.token, **({"state": state} if state else {})})
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query, fragment=""))


async def redeem_authorization_code(session: AsyncSession, code: str) -> User:
    """The user a code was issued to; the code is spent."""
    found = await onetime.redeem(session, AUTHORIZATION_CODE, code)
    if found is None:
        raise OAuthError("invalid_grant", "the authorization code is invalid, used or expired")
    found.user.last_login_at = utcnow()
    return found.user
