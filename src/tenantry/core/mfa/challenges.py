"""The second step of a sign-in: a challenge (the ``mfa_token``) that one right second factor answers.

A challenge lives 5 minutes and allows 5 wrong answers, then is spent; each wrong answer also counts
towards the account's lockout (``core.credentials.lockout``), and a locked account's answers are all
wrong. An ``enroll`` challenge (an organization requires MFA of an account that has none) allows only
enrolling an authenticator app, whose confirmation is the second factor.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.credentials import lockout
from tenantry.core.flows.context import Flows, acting_as
from tenantry.core.mfa import repository, service
from tenantry.core.mfa.models import ENROLL, VERIFY, MfaChallenge
from tenantry.core.mfa.schemas import OTP, TotpEnrolmentOut
from tenantry.core.tokens.service import digest
from tenantry.core.users import repository as users
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput

TTL_SECONDS = 300
MAX_FAILURES = 5
MFA = "mfa"


class ChallengeDead(InvalidInput):
    """The mfa_token is unknown, expired, spent (used, or too many wrong answers) or of another purpose."""

    def __init__(self) -> None:
        super().__init__([FieldError("mfa_token", "is invalid, expired or used up; sign in again")])


class WrongAnswer(InvalidInput):
    """The second factor was wrong; the failure is kept (``keep_changes``) although the answer is an error."""

    def __init__(self, field: str) -> None:
        super().__init__([FieldError(field, "is wrong or already used")])
        self.keep_changes = True


@dataclass(frozen=True)
class Passed:
    """A challenge answered: the account, and every method its sign-in used (RFC 8176 ``amr``)."""

    user: User
    amr: list[str]


async def begin(session: AsyncSession, user: User, purpose: str, amr: list[str]) -> str:
    """A new challenge for ``user``, who proved ``amr`` (e.g. ``["pwd"]``); the answer is its token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(seconds=TTL_SECONDS)
    session.add(
        MfaChallenge(
            user_id=user.id, purpose=purpose, token_hash=digest(token), amr=amr, created_at=now, expires_at=expires
        )
    )
    await session.flush()
    return token


async def _live(session: AsyncSession, token: str, purpose: str) -> tuple[MfaChallenge, User]:
    found = await repository.challenge(session, digest(token)) if token and len(token) <= 200 else None
    if found is None or found.purpose != purpose or found.spent_at is not None or found.expires_at <= utcnow():
        raise ChallengeDead()
    user = await users.get_live(session, found.user_id)
    if user is None or user.status != USER_ACTIVE:
        raise ChallengeDead()
    if user.tokens_valid_after is not None and found.created_at < user.tokens_valid_after:
        raise ChallengeDead()
    return found, user


async def _spend(session: AsyncSession, challenge: MfaChallenge) -> None:
    if not await repository.spend_challenge(session, challenge.id, utcnow()):
        raise ChallengeDead()


async def answer(session: AsyncSession, flows: Flows, actor: Actor, token: str, method: str, value: str) -> Passed:
    """Answer a ``verify`` challenge with a code of ``method`` (``otp`` or ``recovery_code``)."""
    challenge, user = await _live(session, token, VERIFY)
    key = lockout.account_key(user.email)
    now = utcnow()
    recorded, locked_until = await lockout.state(session, key, now)
    if locked_until is None and await service.check(session, flows, actor, user, method, value):
        if recorded:
            await lockout.clear(session, key)
        await _spend(session, challenge)
        return Passed(user, [*challenge.amr, OTP, MFA])  # a recovery code is a one-time password too
    await repository.count_challenge_failure(session, challenge.id, MAX_FAILURES, now)
    if locked_until is None:
        await lockout.record_failure(session, lockout.LockoutRules.of(flows.settings), key, now)
    record(
        session,
        acting_as(actor, user),
        "mfa.failed",
        org_id=None,
        target_type="user",
        target_id=user.id,
        details={"method": method},
    )
    raise WrongAnswer(method)


async def start_enrolment(session: AsyncSession, flows: Flows, token: str) -> TotpEnrolmentOut:
    """With an ``enroll`` challenge: the secret of the account's new authenticator app (the same until confirmed)."""
    _, user = await _live(session, token, ENROLL)
    return await service.totp_to_confirm(session, flows.settings, user)


async def finish_enrolment(
    session: AsyncSession, flows: Flows, actor: Actor, token: str, code: str
) -> tuple[Passed, list[str]]:
    """With an ``enroll`` challenge: confirm the app with its code, which also answers the challenge."""
    challenge, user = await _live(session, token, ENROLL)
    try:
        codes = await service.confirm_totp(session, flows.settings, acting_as(actor, user), user, code)
    except InvalidInput:
        await repository.count_challenge_failure(session, challenge.id, MAX_FAILURES, utcnow())
        raise WrongAnswer("code") from None
    await _spend(session, challenge)
    return Passed(user, [*challenge.amr, OTP, MFA]), codes


async def purge(session: AsyncSession, expired_before: datetime) -> None:
    """Forget challenges that expired before ``expired_before``."""
    await repository.purge_challenges(session, expired_before)
