"""What follows a proven identity: the ticket that replaces a password that must change.

Nothing here hands a sign-in to another site: applications sign users in through the OpenID provider,
whose clients have registered redirect URIs and PKCE.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.audit.signins import PASSWORD, record_sign_in
from tenantry.core.credentials import lockout
from tenantry.core.flows.context import DeadToken, Flows, acting_as, check_new_password, ensure_differs_from_current
from tenantry.core.mfa import service as mfa
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import PASSWORD_CHANGE
from tenantry.core.onetime.service import IssuedToken, Redeemable
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.db.base import utcnow


async def issue_change_ticket(session: AsyncSession, flows: Flows, user: User) -> IssuedToken:
    """A short-lived ticket, handed out instead of tokens when the password must change first."""
    return await onetime.issue(session, PASSWORD_CHANGE, user, flows.settings.password_change_ticket_ttl_seconds)


async def change_required_password(
    session: AsyncSession, flows: Flows, actor: Actor, ticket: str, new_password: str, org_id: str | None = None
) -> User:
    """Replace the password with the ticket: the sign-in that asked for it goes on. It is recorded now (in
    ``org_id`` when it named one), or, when a second factor must follow, once that is answered."""
    found = await onetime.find(session, PASSWORD_CHANGE, ticket)
    if found is None:
        raise DeadToken("change_ticket")
    user = found.user
    await check_new_password(session, user, new_password, field="new_password")
    await ensure_differs_from_current(flows, user, new_password, field="new_password")
    if await onetime.redeem(session, PASSWORD_CHANGE, ticket) is None:
        raise DeadToken("change_ticket")
    await users.store_password(session, user, new_password, flows.passwords)
    user.password_change_required = False
    user.last_login_at = utcnow()
    await session.flush()
    record_for_user(session, acting_as(actor, user), "user.password_changed", user.id, org_id=None)
    if (await mfa.requirement(session, flows.settings, user)).kind == "none":
        await lockout.clear(session, lockout.account_key(user.email))  # signed in: its failures are forgotten
        await record_sign_in(session, user, method=PASSWORD, org_id=org_id, client_ip=actor.client_ip)
    return user


async def find_change_ticket(session: AsyncSession, ticket: str) -> Redeemable | None:
    """The account a change ticket is for, while the ticket still works (nothing is spent)."""
    return await onetime.find(session, PASSWORD_CHANGE, ticket)
