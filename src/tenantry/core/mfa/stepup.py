"""Changing the second factors of an account that has one takes a session that proved one.

A session signed in with one factor (a password, a magic link) may have been opened by someone who knows the
password; once the owner enrols a factor, that session must not take it over: new recovery codes, removing
the authenticator app or a passkey, or adding one of its own. Its refresh tokens end too
(``challenges.lacks_required_factor``). Enrolling the account's first factor needs no second one.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.mfa import repository
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
