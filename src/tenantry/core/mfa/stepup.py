"""Changing the second factors of an account that has one takes a session that proved one.

A session signed in with one factor (a password, a magic link) may have been opened by someone who knows the
password; once the owner enrols a factor, that session must not take it over: new recovery codes, removing
the authenticator app or a passkey, or adding one of its own. Its refresh tokens end too
(``challenges.lacks_required_factor``). Enrolling the account's first factor needs no second one.

That first factor may be someone else's, though: whoever phished the password adds a passkey, which then signs
in alone. So a factor made on one factor (``made_on_one_factor``) is told to the address, whose owner may remove
it (``forget_one_factor_enrolments``). An ordinary reset keeps it: whoever holds the mailbox does not pass the
second factor.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.credentials import lockout
from tenantry.core.mfa import repository
from tenantry.core.mfa.models import TOTP
from tenantry.core.mfa.schemas import OTP, PASSKEY
from tenantry.core.users.models import User
from tenantry.errors import PermissionDenied

SIGN_IN_WITH_SECOND_FACTOR = (
    "this session signed in without a second factor and the account has one: "
    "sign in again with it to change the account's second factors"
)


async def ensure_second_factor_proven(session: AsyncSession, actor: Actor, user: User) -> None:
    """Refuse (403) a change of ``user``'s second factors by a session that did not prove one, once there is one."""
    if actor.second_factor:
        return
    totp, passkey, _ = await repository.second_factors(session, user.id)
    if totp or passkey:
        raise PermissionDenied(SIGN_IN_WITH_SECOND_FACTOR)


async def made_on_one_factor(session: AsyncSession, actor: Actor, user: User) -> bool:
    """Whether a factor ``actor`` adds to ``user`` now is made on one factor: unless the session proved a second
    factor while the account holds only factors not so made. The session may have proven one so made (the first
    passkey makes its session two-factor, and a sign-in with it is), even one it removed since."""
    if not actor.second_factor:
        return True
    on_one_factor, otherwise = await repository.trust_of_factors(session, user.id)
    return on_one_factor or not otherwise


async def forget_one_factor_enrolments(session: AsyncSession, actor: Actor, user: User) -> None:
    """The owner of the address chose a new password through the notice of a factor made on one factor: the second
    factors made on one factor go (audited as ``mfa.removed``), with the recovery codes, which were shown to whoever
    made them."""
    await lockout.one_at_a_time(session, lockout.account_key(user.email))  # as every change of the factors
    kinds, passkey_ids = await repository.delete_one_factor_enrolments(session, user.id)
    if not kinds and not passkey_ids:
        return
    await repository.delete_recovery_codes(session, user.id)
    removed = [{"method": OTP} for kind in kinds if kind == TOTP]
    removed += [{"method": PASSKEY, "passkey_id": passkey_id} for passkey_id in passkey_ids]
    for details in removed:
        record_for_user(
            session, actor, "mfa.removed", user.id, org_id=None, details={**details, "made_on_one_factor": True}
        )
