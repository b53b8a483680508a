"""Sign-ins in the audit log (and so in the event feeds): who signed in, or failed to, and how.

A sign-in happens outside any organization unless it names one: it is recorded in each organization
the account belongs to, or only in the one it names (when the account belongs to it), so every
organization sees its members' sign-ins and no organization learns of an account it does not hold.
An account in no organization (a platform admin) gets one account-wide record.

A sign-in is recorded once, when it is finished: a first factor that a second must follow records
nothing yet; the second step (``core.mfa.challenges``) records the sign-in, with both factors, or its
failure (``reason: second_factor``).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.memberships import repository as memberships
from tenantry.core.users.models import User
from tenantry.requestctx import request_id

SIGNED_IN = "user.signed_in"
SIGN_IN_FAILED = "user.sign_in_failed"
PASSWORD = "password"
MAGIC_LINK = "magic_link"
_FIRST_FACTORS = {"pwd": PASSWORD, "email": MAGIC_LINK}
"""The sign-in method of a first factor's RFC 8176 ``amr`` (``email``: a mailed link, as in Okta's tokens)."""


def method_of(amr: list[str]) -> str:
    """The method of the first factor a sign-in proved (``amr`` of its challenge)."""
    return next((_FIRST_FACTORS[name] for name in amr if name in _FIRST_FACTORS), PASSWORD)


async def record_sign_in(
    session: AsyncSession,
    user: User,
    *,
    method: str,
    failure: str | None = None,
    org_id: str | None = None,
    client_ip: str | None = None,
    second_factor: str | None = None,
) -> None:
    """Record a sign-in of ``user`` by ``method`` (``password``, ...) and ``second_factor`` (``otp``, ...)
    when one followed; ``failure`` says why it failed."""
    member_of = await memberships.joined_org_ids(session, user.id)  # an invitation not accepted hears nothing
    recorded_in: list[str | None] = list(member_of) or [None]
    if org_id is not None:
        recorded_in = [org_id] if org_id in member_of else []
    actor = Actor(user_id=user.id, request_id=request_id.get(), client_ip=client_ip)
    action, details = SIGNED_IN, {"method": method}
    if second_factor is not None:
        details["second_factor"] = second_factor
    if failure is not None:
        action, details = SIGN_IN_FAILED, {**details, "reason": failure}
    for org in recorded_in:
        record_for_user(session, actor, action, user.id, org_id=org, details=details)
