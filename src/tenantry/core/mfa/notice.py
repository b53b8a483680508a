"""The notice of a second factor made on one factor: the address is told, with a way out.

Enrolling the account's first factor needs no second one, so whoever phished the password can add a passkey
(which then signs in alone) or an authenticator app. An ordinary reset keeps the factors (whoever holds the
mailbox does not pass the second factor), so the owner hears of such a factor at once, at the address, with a
link (``FACTOR_ADDED``, a week by default) that sets a new password and removes the factors made on one factor
(``core.flows.resets.undo_factor_added``). A new password or "sign out everywhere" does not end that link: the
person who added the factor could otherwise void it.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.flows.context import Flows, send_email
from tenantry.core.mfa.stepup import made_on_one_factor
from tenantry.core.onetime import service as onetime
from tenantry.core.onetime.models import FACTOR_ADDED
from tenantry.core.users.models import User

PAGE = "factor-added"
"""The hosted page the notice's link opens (``/ui/factor-added``)."""


async def made_on_one_factor_told(session: AsyncSession, flows: Flows, actor: Actor, user: User, method: str) -> bool:
    """Whether the factor of ``method`` (``otp``, ``passkey``) ``actor`` adds to ``user`` now is made on one factor
    (``stepup.made_on_one_factor``); if so, the address is mailed the notice and its link (each notice its own:
    an earlier one keeps working)."""
    if not await made_on_one_factor(session, actor, user):
        return False
    ttl = flows.settings.factor_added_ttl_seconds
    issued = await onetime.issue(
        session, FACTOR_ADDED, user, ttl, mailed=True, details={"method": method}, void_older=False
    )
    link = flows.page_url(PAGE, token=issued.token)
    when = issued.row.created_at
    await send_email(
        session, flows, "factor_added", user, None, link, ttl, method=method, added_at=when, client_ip=actor.client_ip
    )
    return True
