"""The second step of a sign-in: a challenge (the ``mfa_token``) that one right second factor answers.

Answering a challenge finishes the sign-in: it is recorded then (``core.audit.signins``), with both factors,
in the organization the sign-in named (kept on the challenge) or in each of the account's; a wrong answer is
recorded as a failed sign-in there too, and as ``mfa.failed`` account-wide.

A challenge lives 5 minutes and allows 5 wrong answers, then is spent; each wrong answer also counts
towards the account's lockout (``core.credentials.lockout``; the right password that opened the challenge
cleared nothing, the right answer clears it) and, at the surfaces, the client IP's failures
(``auth.brute_force.second_factor_counted``); a locked account's answers are all wrong. An ``enroll``
challenge (an organization requires MFA of an account that has none) allows only enrolling an authenticator
app, whose confirmation is the second factor.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import metrics
from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.audit.signins import method_of, record_sign_in
from tenantry.core.credentials import lockout
from tenantry.core.flows import ownership
from tenantry.core.flows.context import Flows, acting_as
from tenantry.core.mfa import passkeys, repository, service
from tenantry.core.mfa.models import ENROLL, VERIFY, MfaChallenge
from tenantry.core.mfa.schemas import MFA, OTP, PASSKEY, TotpEnrolmentOut
from tenantry.core.mfa.service import EnrolmentPlace
from tenantry.core.tokens.service import digest
from tenantry.core.users import repository as users
from tenantry.core.users.models import USER_ACTIVE, User
from tenantry.core.users.password_signin import SignInAccount
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput
from tenantry.settings import Settings

TTL_SECONDS = 300
MAX_FAILURES = 5
ENROLMENT = "enrolment"
SECOND_FACTOR_REFUSED = "second_factor"
"""The ``reason`` of a sign-in whose first factor was right and whose second was not."""


def _counted(method: str, result: str) -> None:
    """A second step in the sign-in metric: ``mfa_otp``, ``mfa_recovery_code``, ``mfa_passkey`` or
    ``mfa_enrolment``, ``succeeded`` or ``failed`` (the first step counted ``mfa_required`` before it)."""
    metrics.SIGN_INS.labels(method=f"mfa_{method}", result=result).inc()


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


async def begin(
    session: AsyncSession, user: User | SignInAccount, purpose: str, amr: list[str], org_id: str | None = None
) -> str:
    """A new challenge for ``user`` (the entity, or the password grant's row), who proved ``amr`` (e.g. ``["pwd"]``)
    in a sign-in naming ``org_id`` (or none); the answer is its token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(seconds=TTL_SECONDS)
    session.add(
        MfaChallenge(
            user_id=user.id,
            org_id=org_id,
            purpose=purpose,
            token_hash=digest(token),
            amr=amr,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return token


async def _live(
    session: AsyncSession, token: str, purpose: str, *, to_answer: bool = False
) -> tuple[MfaChallenge, User]:
    """The live challenge of ``token`` and its account. ``to_answer``: answers to the challenge, and every
    attempt on the account's login name (``lockout.one_at_a_time``), wait for this one to end, so that a burst
    of answers in parallel meets the challenge's limit and the lockout as the same answers one by one would.
    The login name's lock comes before the challenge's row, as on every path that takes both (a new password
    deletes the account's challenges under the name's lock): one order, no deadlock."""
    if not token or len(token) > 200:
        raise ChallengeDead()
    found, user = await _holder_of(session, await repository.challenge(session, digest(token)), purpose)
    if to_answer:
        await lockout.one_at_a_time(session, lockout.account_key(user.email))
        found, user = await _holder_of(
            session, await repository.challenge(session, digest(token), to_answer=True), purpose
        )
    return found, user


async def _holder_of(session: AsyncSession, found: MfaChallenge | None, purpose: str) -> tuple[MfaChallenge, User]:
    if found is None or found.purpose != purpose or found.spent_at is not None or found.expires_at <= utcnow():
        raise ChallengeDead()
    user = await users.get_holder(session, found.user_id, found.created_at)
    if user is None:
        raise ChallengeDead()
    return found, user


async def _spend(session: AsyncSession, challenge: MfaChallenge) -> None:
    if not await repository.spend_challenge(session, challenge.id, utcnow()):
        raise ChallengeDead()


async def _signed_in(
    session: AsyncSession, actor: Actor, user: User, challenge: MfaChallenge, method: str, failure: str | None = None
) -> None:
    """The sign-in of ``challenge`` in the audit log: finished with ``method``, or failed at it (``failure``)."""
    await record_sign_in(
        session,
        user,
        method=method_of(challenge.amr),
        second_factor=method,
        failure=failure,
        org_id=challenge.org_id,
        client_ip=actor.client_ip,
    )


async def answer(
    session: AsyncSession, flows: Flows, actor: Actor, token: str, method: str, value: str, *, unchecked: bool = False
) -> Passed:
    """Answer a ``verify`` challenge with a code of ``method`` (``otp`` or ``recovery_code``). ``unchecked``: the
    client is over its failed sign-ins (``auth.brute_force``): the answer is refused without being checked, and
    recorded as a wrong one, as while the account is locked."""
    challenge, user = await _live(session, token, VERIFY, to_answer=True)
    key = lockout.account_key(user.email)
    now = utcnow()
    recorded, locked_until = await lockout.state(session, key, now)
    if not unchecked and locked_until is None and await service.check(session, flows, actor, user, method, value):
        if recorded:
            await lockout.clear(session, key)
        await _spend(session, challenge)
        await _signed_in(session, actor, user, challenge, method)
        _counted(method, "succeeded")
        return Passed(user, [*challenge.amr, OTP, MFA])  # a recovery code is a one-time password too
    await _refused(session, flows, actor, user, method, challenge)
    _counted(method, "failed")
    raise WrongAnswer(method)


async def _refused(
    session: AsyncSession, flows: Flows, actor: Actor, user: User, method: str, challenge: MfaChallenge | None
) -> None:
    """Count a wrong answer of ``user``: on the sign-in's challenge, towards the account's lockout, in the audit log
    (a failed sign-in: at its second step, or with a passkey alone when there is no challenge)."""
    now = utcnow()
    if challenge is not None:
        await repository.count_challenge_failure(session, challenge.id, MAX_FAILURES, now)
        await _signed_in(session, actor, user, challenge, method, failure=SECOND_FACTOR_REFUSED)
    else:
        await record_sign_in(session, user, method=PASSKEY, failure="bad_credentials", client_ip=actor.client_ip)
    key = lockout.account_key(user.email)
    if (await lockout.state(session, key, now))[1] is None:
        await lockout.record_failure(session, lockout.LockoutRules.of(flows.settings), key, now)
    details = {"method": method}
    record_for_user(session, acting_as(actor, user), "mfa.failed", user.id, org_id=None, details=details)


async def methods_for(session: AsyncSession, token: str) -> list[str]:
    """The second factors the account of a live ``verify`` challenge can answer with."""
    _, user = await _live(session, token, VERIFY)
    return await service.methods_of(session, user.id)


async def owner_locale(session: AsyncSession, token: str) -> str | None:
    """The ``locale`` of the account whose sign-in waits for this second step (its pages speak it), or None
    when the challenge is not live: the first factor is proven, so the language tells nobody anything new."""
    for purpose in (VERIFY, ENROLL):
        try:
            return (await _live(session, token, purpose))[1].locale
        except ChallengeDead:
            continue
    return None


async def passkey_options(session: AsyncSession, flows: Flows, token: str) -> str:
    """With a ``verify`` challenge: WebAuthn options (JSON) for the account's passkeys, bound to this sign-in."""
    challenge, user = await _live(session, token, VERIFY)
    return await passkeys.assertion_options(session, flows.settings, user_id=user.id, mfa_challenge_id=challenge.id)


async def answer_passkey(
    session: AsyncSession, flows: Flows, actor: Actor, token: str, credential_json: str, *, unchecked: bool = False
) -> Passed:
    """Answer a ``verify`` challenge with a passkey's assertion (for options of ``passkey_options``).

    The sign-in's challenge is checked first; a wrong assertion then counts like a wrong code (``unchecked``: as
    ``answer``'s)."""
    challenge, user = await _live(session, token, VERIFY, to_answer=True)
    try:
        presented = await passkeys.present(session, credential_json, mfa_challenge_id=challenge.id)
    except passkeys.BadPasskey:
        await _refused(session, flows, actor, user, PASSKEY, challenge)
        _counted(PASSKEY, "failed")
        raise WrongAnswer(PASSKEY) from None
    key = lockout.account_key(user.email)
    recorded, locked_until = await lockout.state(session, key, utcnow())
    asserted = None
    if (
        not unchecked
        and locked_until is None
        and presented.passkey is not None
        and presented.passkey.user_id == user.id
    ):
        asserted = await passkeys.verify(session, flows.settings, presented, require_user_verification=False)
    if asserted is None:
        await _refused(session, flows, actor, user, PASSKEY, challenge)
        _counted(PASSKEY, "failed")
        raise WrongAnswer(PASSKEY)
    if recorded:
        await lockout.clear(session, key)
    await _spend(session, challenge)
    await _signed_in(session, actor, user, challenge, PASSKEY)
    _counted(PASSKEY, "succeeded")
    return Passed(user, [*challenge.amr, *(name for name in asserted.amr if name != MFA), MFA])


class PasskeyRefused(InvalidInput):
    """A sign-in with a passkey alone failed (unknown passkey, wrong signature, locked or disabled account)."""

    def __init__(self) -> None:
        super().__init__([FieldError("credential", "this passkey could not sign you in")])
        self.keep_changes = True


async def sign_in_with_passkey(
    session: AsyncSession, flows: Flows, actor: Actor, credential_json: str, *, unchecked: bool = False
) -> Passed:
    """A sign-in with a discoverable passkey alone, verified by the user (PIN or biometrics): two factors.

    The challenge is spent first (each allows one try); a wrong assertion of a known passkey then counts
    towards its account's lockout, and a locked account's passkeys are refused (``unchecked``: as
    ``answer``'s)."""
    try:
        presented = await passkeys.present(session, credential_json)
    except passkeys.BadPasskey:
        raise PasskeyRefused() from None
    passkey = presented.passkey
    user = await users.get_live(session, passkey.user_id) if passkey is not None else None
    if user is None or user.status != USER_ACTIVE:
        raise PasskeyRefused()
    key = lockout.account_key(user.email)
    await lockout.one_at_a_time(session, key)
    recorded, locked_until = await lockout.state(session, key, utcnow())
    asserted = None
    if not unchecked and locked_until is None:
        asserted = await passkeys.verify(session, flows.settings, presented, require_user_verification=True)
    if asserted is None:
        await _refused(session, flows, actor, user, PASSKEY, None)
        raise PasskeyRefused()
    if recorded:
        await lockout.clear(session, key)
    user.last_login_at = utcnow()
    await record_sign_in(session, user, method=PASSKEY, client_ip=actor.client_ip)
    return Passed(user, asserted.amr)


async def start_enrolment(session: AsyncSession, flows: Flows, token: str) -> TotpEnrolmentOut:
    """With an ``enroll`` challenge: the secret of the account's new authenticator app (the same until confirmed)."""
    challenge, user = await _live(session, token, ENROLL)
    return await service.totp_to_confirm(session, flows.settings, user, EnrolmentPlace.sign_in(challenge.id))


async def finish_enrolment(
    session: AsyncSession, flows: Flows, actor: Actor, token: str, code: str
) -> tuple[Passed, list[str]]:
    """With an ``enroll`` challenge: confirm the app with its code, which also answers the challenge."""
    challenge, user = await _live(session, token, ENROLL)
    try:
        place = EnrolmentPlace.sign_in(challenge.id)
        codes = await service.confirm_totp(session, flows, acting_as(actor, user), user, code, place)
    except InvalidInput:
        await repository.count_challenge_failure(session, challenge.id, MAX_FAILURES, utcnow())
        await _signed_in(session, actor, user, challenge, OTP, failure=SECOND_FACTOR_REFUSED)
        _counted(ENROLMENT, "failed")
        raise WrongAnswer("code") from None
    ownership.factor_added(user, challenge.amr)
    await _spend(session, challenge)
    await lockout.clear(session, lockout.account_key(user.email))  # the sign-in completes: its failures go
    await _signed_in(session, actor, user, challenge, OTP)
    _counted(ENROLMENT, "succeeded")
    return Passed(user, [*challenge.amr, OTP, MFA]), codes


async def lacks_required_factor(session: AsyncSession, settings: Settings, user: User, amr: list[str] | None) -> bool:
    """Whether a session that proved ``amr`` lacks the second factor a sign-in of its account would need now:
    the account has one (enrolled after the session began: the owner securing an account whose password may be
    known), or must have one (an organization turned ``mfa_required`` on). Its refresh tokens (the native
    token endpoint's, the OpenID provider's, a token exchange's) then mint nothing more, as the authorization
    endpoint sends such a browser session to the second step (the same ``service.requirement``)."""
    return MFA not in (amr or []) and (await service.requirement(session, settings, user)).kind != "none"


def proven_by_enrolment(amr: list[str] | None, kind: str) -> list[str]:
    """What a session that proved ``amr`` has proven once it set up its account's second factor ``kind`` itself
    (confirmed a new authenticator app with its code, made a passkey with user verification): both factors, as a
    sign-in with them would. A session can set up a factor only while the account has none, or once it proved
    one (``stepup``)."""
    return list(dict.fromkeys([*(amr or []), kind, MFA]))


async def purge(session: AsyncSession, expired_before: datetime) -> None:
    """Forget challenges that expired before ``expired_before``."""
    await repository.purge_challenges(session, expired_before)
