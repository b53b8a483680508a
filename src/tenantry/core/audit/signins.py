"""Sign-ins in the audit log (and so in the event feeds): who signed in, or failed to, and how.

A sign-in is recorded in each organization the account joined, whichever organization it names (the
hosted sign-in's ``?org=``, which anyone can set, or an application's): the session it opens is the
account's, usable in every one of them, so naming one hides it from none. Every organization sees its
members' sign-ins and no organization learns of an account it does not hold.
An account in no organization (a platform admin) gets one account-wide record.

A sign-in is recorded once, when it is finished: a first factor that a second must follow records
nothing yet; the second step (``core.mfa.challenges``) records the sign-in, with both factors, or its
failure (``reason: second_factor``).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import insert_for_user, record_for_user, rows_for_user
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
    sign_in = SignIn(method, failure, org_id, client_ip, second_factor)
    actor, action, details = sign_in.event(user.id)
    for org in sign_in.recorded_in(member_of):
        record_for_user(session, actor, action, user.id, org_id=org, details=details)


@dataclass(frozen=True)
class SignIn:
    """A sign-in to record: its ``method`` and ``second_factor``, why it failed (``failure``), the organization
    it named (``org_id``: its context, not where it is recorded) and where from (``client_ip``)."""

    method: str
    failure: str | None = None
    org_id: str | None = None
    client_ip: str | None = None
    second_factor: str | None = None

    def recorded_in(self, member_of: list[str]) -> list[str | None]:
        """Where the sign-in of an account that joined ``member_of`` is recorded (None: account-wide)."""
        return list(member_of) or [None]

    def event(self, user_id: str) -> tuple[Actor, str, dict[str, str]]:
        """The actor, action and details of its audit events."""
        actor = Actor(user_id=user_id, request_id=request_id.get(), client_ip=self.client_ip)
        action, details = SIGNED_IN, {"method": self.method}
        if self.second_factor is not None:
            details["second_factor"] = self.second_factor
        if self.failure is not None:
            action, details = SIGN_IN_FAILED, {**details, "reason": self.failure}
        return actor, action, details


async def insert_sign_in(session: AsyncSession, user_id: str, member_of: list[str], sign_in: SignIn) -> None:
    """Record ``sign_in`` of the account ``user_id``, which joined ``member_of`` (``joined_org_ids``, read with
    what the sign-in read), written now (``insert_for_user``): the password grant's path."""
    actor, action, details = sign_in.event(user_id)
    await insert_for_user(session, actor, action, user_id, org_ids=sign_in.recorded_in(member_of), details=details)


def sign_in_rows(user_id: str, member_of: list[str], sign_in: SignIn) -> list[dict[str, Any]]:
    """The audit rows ``insert_sign_in`` writes, for a caller that inserts them with its own writes."""
    actor, action, details = sign_in.event(user_id)
    return rows_for_user(actor, action, user_id, org_ids=sign_in.recorded_in(member_of), details=details)
