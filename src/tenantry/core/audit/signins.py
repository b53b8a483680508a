"""Sign-ins in the audit log (and so in the event feeds): who signed in, or failed to, and how.

A sign-in happens outside any organization unless it names one: it is recorded in each organization
the account belongs to, or only in the one it names (when the account belongs to it), so every
organization sees its members' sign-ins and no organization learns of an account it does not hold.
An account in no organization (a platform admin) gets one account-wide record.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.memberships import repository as memberships
from tenantry.core.users.models import User
from tenantry.requestctx import request_id

SIGNED_IN = "user.signed_in"
SIGN_IN_FAILED = "user.sign_in_failed"


async def record_sign_in(
    session: AsyncSession,
    user: User,
    *,
    method: str,
    failure: str | None = None,
    org_id: str | None = None,
    client_ip: str | None = None,
) -> None:
    """Record a sign-in of ``user`` by ``method`` (``password``, ...); ``failure`` says why it failed."""
    joined = [found for found in await memberships.for_user(session, user.id) if not found.consent_pending]
    member_of = sorted({membership.org_id for membership in joined})  # an invitation not accepted hears nothing
    recorded_in: list[str | None] = list(member_of) or [None]
    if org_id is not None:
        recorded_in = [org_id] if org_id in member_of else []
    actor = Actor(user_id=user.id, request_id=request_id.get(), client_ip=client_ip)
    action, details = SIGNED_IN, {"method": method}
    if failure is not None:
        action, details = SIGN_IN_FAILED, {"method": method, "reason": failure}
    for org in recorded_in:
        record(session, actor, action, org_id=org, target_type="user", target_id=user.id, details=details)
