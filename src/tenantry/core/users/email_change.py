"""Changing an account's email address: the rule every surface's update goes through.

The address is where resets and links go, so changing it can route the account's credentials elsewhere.
Anyone but the user needs ``users:set_password`` for it (the right to choose the password anyway),
checked before anything else. When it changes, every session, refresh token and one-time link of the
account ends, and the old address is told, by mail, what it was changed to and by which organization.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.flows.context import Flows, email_look
from tenantry.core.orgs import repository as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.outbox import service as outbox
from tenantry.core.outbox.models import EMAIL_CHANGED_NOTICE
from tenantry.core.tokens.service import revoke_sessions
from tenantry.core.users import repository
from tenantry.core.users.models import User
from tenantry.errors import PermissionDenied
from tenantry.mail.compose import compose

SET_PASSWORD = "users:set_password"


def ensure_may_change(actor: Actor, user: User) -> None:
    """The user changes their own address; anyone else only with ``users:set_password``. An impersonation, or
    an application's token for one organization, is not the user themselves (``Actor.is_user``)."""
    if not actor.is_user(user.id) and not actor.holds({SET_PASSWORD}):
        raise PermissionDenied(f"changing another user's email address requires {SET_PASSWORD!r}")


async def changed(session: AsyncSession, actor: Actor, org: Organization, user: User, old_email: str) -> None:
    """After the address changed: end the account's sessions and links, withdraw the invitations sent to the old
    address (``memberships.joining``), tell the old address, audit."""
    from tenantry.core.memberships import joining  # imports the accounts service, which imports this module

    await revoke_sessions(session, user)
    await joining.withdraw_for_new_address(session, actor, user)
    payload = {"user_id": user.id, "old_email": old_email, "org_id": org.id}
    outbox.enqueue(session, EMAIL_CHANGED_NOTICE, payload, recipient=old_email, org_id=org.id)
    record_for_user(session, actor, "user.email_changed", user.id, org_id=org.id)


async def send_notice(session: AsyncSession, flows: Flows, payload: dict[str, Any]) -> None:
    """The worker's half: mail the old address (the account may have changed again since; say what it is now)."""
    user = await repository.get_live(session, str(payload.get("user_id", "")))
    old_email = str(payload.get("old_email", ""))
    if user is None or not old_email:
        return
    org = await orgs.get_by_ref(session, str(payload.get("org_id", "")))
    language, shown = await email_look(session, flows, user.locale, org)
    context = {
        "user": {"email": old_email, "first_name": user.first_name, "last_name": user.last_name},
        "new_email": user.email,
        **shown,
    }
    email = compose(flows.templates, "email_changed", context, lang=language)
    outbox.enqueue_email(
        session,
        to=old_email,
        subject=email.subject,
        text=email.text,
        html=email.html,
        links=[],
        org_id=None,
        from_name=shown["from_name"],
    )
