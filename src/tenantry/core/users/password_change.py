"""A password change proven by the current password: one rule for every surface that offers it (the
native ``/me/password``, the hosted "My account" page, telm's change-password).

Whether the caller may act on the account at all is decided first, and that answer does not depend on
the password given. Only then is the current password checked, under the login lockout: a wrong one
counts as a failed sign-in for the account's login name, and a locked name is refused alike.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.credentials import lockout
from tenantry.core.credentials.policy import policy_for_user
from tenantry.core.flows.context import Flows
from tenantry.core.memberships import service as membership_rules
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.core.users.schemas import PasswordChange, PasswordSet
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput, PermissionDenied

_SET_PASSWORD = "users:set_password"


async def change_password(
    session: AsyncSession,
    flows: Flows,
    actor: Actor,
    user: User,
    change: PasswordChange,
    *,
    org: Organization | None = None,
    member: Member | None = None,
) -> None:
    """Replace ``user``'s password once ``change.current_password`` proves it.

    The user changes their own; someone else only with ``users:set_password`` in ``org`` over ``member``
    (the account's), and only where that organization may change the account at all.
    """
    administered = await _ensure_may_change(session, actor, user, org, member)
    await _check_current_password(session, flows, user, change.current_password)
    if administered is not None:
        payload = PasswordSet(password=change.new_password)
        await users.set_password(session, actor, *administered, payload, flows.passwords)
        return
    rules = await policy_for_user(session, user.id)
    context = [user.email, user.first_name, user.last_name, *rules.org_names]
    rules.policy.check(change.new_password, field="new_password", context=context)
    await users.store_password(session, user, change.new_password, flows.passwords)
    user.password_change_required = False
    await session.flush()
    record_for_user(session, actor, "user.password_changed", user.id, org_id=None)


async def _ensure_may_change(
    session: AsyncSession, actor: Actor, user: User, org: Organization | None, member: Member | None
) -> tuple[Organization, Member] | None:
    """Refuse unless the caller may change this password; the organization acting for someone else, if so."""
    if actor.impersonator_id is not None:
        raise PermissionDenied("an impersonated session cannot change the password")
    if actor.is_user(user.id):
        return None
    if actor.user_id == user.id:
        raise PermissionDenied("a token issued for one organization cannot change the account's password")
    if org is None or member is None or member.user.id != user.id or not actor.holds({_SET_PASSWORD}):
        raise PermissionDenied(f"changing another user's password requires '{_SET_PASSWORD}'")
    membership_rules.ensure_may_manage(actor, member)
    await membership_rules.ensure_account_exclusive(session, actor, org, member)
    return org, member


async def _check_current_password(session: AsyncSession, flows: Flows, user: User, password: str) -> None:
    rules = lockout.LockoutRules.of(flows.settings)
    hashed = user.password_hash
    verdict = await lockout.verify_counted(
        session, rules, user.email, lambda: flows.passwords.verify(hashed, password), utcnow()
    )
    if verdict is not lockout.Verdict.RIGHT:
        raise InvalidInput(
            [FieldError("current_password", "is incorrect", code="incorrect_current_password")], keep_changes=True
        )
