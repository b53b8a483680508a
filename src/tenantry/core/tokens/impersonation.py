"""Whether an impersonation token still stands, decided on every request that presents it.

The token names the impersonated user, the impersonator (and the impersonator's session, when they had
one: the token session of the API, or the browser session of the console) and the one organization it acts
in. It stands only while the impersonator's account is active, their session has not ended (sign-out of
the API or of the hosted pages, ending every session), and their membership in that organization
is active and still holds ``users:impersonate`` (platform admins hold every permission). Demoting,
disabling or removing the impersonator therefore ends the tokens they minted on the next request.

The rule minting followed (``memberships.ensure_may_manage``) holds on every request too: the impersonated
user is still an active member of the organization (not through a partner link, not an invitation), holds
no right the impersonator lacks now, and is a platform admin only for a platform admin. Promoting the
impersonated user, or demoting the impersonator to a role that may still impersonate, ends the token.

Everything is read in one statement: the impersonated account and its membership's roles, the impersonator,
their membership's roles in the organization (one row per pair of roles) and whether their session was
revoked.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tenantry.core.actor import Actor
from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership, membership_roles
from tenantry.core.roles.models import Role
from tenantry.core.roles.service import union_permissions
from tenantry.core.sessions.models import BrowserSession
from tenantry.core.tokens.models import RefreshToken
from tenantry.core.users.models import USER_ACTIVE, User, live_account

IMPERSONATE = "users:impersonate"

_Impersonator = aliased(User, name="impersonator")
_Impersonated = aliased(Membership, name="impersonated_membership")
_impersonated_roles = membership_roles.alias("impersonated_roles")
_ImpersonatedRole = aliased(Role, name="impersonated_role")
_STATEMENT = (
    select(
        User,
        _Impersonator,
        Membership,
        Role,
        _Impersonated,
        _ImpersonatedRole,
        or_(
            exists().where(RefreshToken.family_id == bindparam("session_id"), RefreshToken.revoked_at.is_not(None)),
            exists().where(BrowserSession.id == bindparam("session_id"), BrowserSession.revoked_at.is_not(None)),
        ).label("session_ended"),
    )
    .select_from(User)
    .join(_Impersonator, _Impersonator.id == bindparam("impersonator_id"))
    .outerjoin(Membership, and_(Membership.user_id == _Impersonator.id, Membership.org_id == bindparam("org_id")))
    .outerjoin(membership_roles, membership_roles.c.membership_id == Membership.id)
    .outerjoin(Role, Role.id == membership_roles.c.role_id)
    .outerjoin(_Impersonated, and_(_Impersonated.user_id == User.id, _Impersonated.org_id == bindparam("org_id")))
    .outerjoin(_impersonated_roles, _impersonated_roles.c.membership_id == _Impersonated.id)
    .outerjoin(_ImpersonatedRole, _ImpersonatedRole.id == _impersonated_roles.c.role_id)
    .where(
        User.id == bindparam("user_id"),
        live_account(),
        live_account(_Impersonator),
    )
)


@dataclass(frozen=True)
class Impersonation:
    user: User | None
    """The impersonated account (None: deleted)."""
    impersonator_may: bool
    """Whether the impersonator still may act as them in the organization."""


async def check(
    session: AsyncSession,
    *,
    user_id: str,
    impersonator_id: str,
    org_id: str,
    impersonator_session_id: str | None,
    issued_at: float,
) -> Impersonation:
    """The impersonated account and whether the token still stands for the impersonator (see the module)."""
    parameters = {
        "user_id": user_id,
        "impersonator_id": impersonator_id,
        "org_id": org_id,
        "session_id": impersonator_session_id,
    }
    rows = (await session.execute(_STATEMENT, parameters)).all()
    if not rows:
        return Impersonation(None, impersonator_may=False)
    user, impersonator, membership, _, impersonated, _, session_ended = rows[0]
    revoked_after = impersonator.tokens_valid_after
    # ``iat`` counts whole seconds: a token minted within the second its impersonator ended every session
    # may predate that, and is refused.
    if (
        impersonator.status != USER_ACTIVE
        or session_ended
        or (revoked_after is not None and issued_at <= math.floor(revoked_after.timestamp()))
    ):
        return Impersonation(user, impersonator_may=False)
    if impersonated is None or impersonated.status != MEMBERSHIP_ACTIVE or impersonated.consent_pending:
        return Impersonation(user, impersonator_may=False)
    if impersonator.platform_admin:
        return Impersonation(user, impersonator_may=True)
    if membership is None or membership.status != MEMBERSHIP_ACTIVE or user.platform_admin:
        return Impersonation(user, impersonator_may=False)
    permissions = _permissions(row[3] for row in rows)
    may = IMPERSONATE in permissions and Actor(permissions=permissions).holds(_permissions(row[5] for row in rows))
    return Impersonation(user, impersonator_may=may)


def _permissions(roles: Iterable[Role | None]) -> frozenset[str]:
    """What the roles of one membership permit together (the statement repeats each on several rows)."""
    return union_permissions([role for role in set(roles) if role is not None])
