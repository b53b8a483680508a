"""Second factors: enrolling an authenticator app (TOTP), recovery codes, checking either, removing them.

``requirement`` is the one question every sign-in path asks after the first factor: is a second factor
needed (``verify``), must one be enrolled first (``enroll``: an organization or the platform requires
MFA), or neither. ``core.mfa.challenges`` then carries the sign-in to its end.
"""

import base64
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core import secretbox
from tenantry.core.actor import Actor
from tenantry.core.audit.service import record_for_user
from tenantry.core.credentials import lockout
from tenantry.core.flows.context import Flows, acting_as, send_email
from tenantry.core.memberships.service import Member, ensure_account_exclusive, ensure_may_manage
from tenantry.core.mfa import notice, passkeys, repository, totp
from tenantry.core.mfa.models import TOTP, MfaFactor, RecoveryCode
from tenantry.core.mfa.schemas import OTP, PASSKEY, RECOVERY_CODE, MfaStatusOut, TotpEnrolmentOut, TotpOut
from tenantry.core.mfa.stepup import ensure_second_factor_proven
from tenantry.core.orgs.models import MFA_REQUIRED, Organization
from tenantry.core.sessions import service as browser_sessions
from tenantry.core.tokens.service import digest
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, FieldError, InvalidInput, NotFound
from tenantry.i18n import N_
from tenantry.settings import Settings

RECOVERY_CODE_COUNT = 10


@dataclass(frozen=True)
class Requirement:
    kind: Literal["none", "verify", "enroll"]
    methods: list[str]


def methods_from(totp: bool, passkey: bool, recovery_codes: int) -> list[str]:
    """The second factors an account with these can answer a challenge with (``repository.second_factors``)."""
    methods = [OTP] if totp else []
    if passkey:
        methods.append(PASSKEY)
    if methods and recovery_codes:
        methods.append(RECOVERY_CODE)
    return methods


async def methods_of(session: AsyncSession, user_id: str) -> list[str]:
    """The second factors the account can answer a challenge with."""
    return methods_from(*await repository.second_factors(session, user_id))


def required_by(settings: Settings, platform_admin: bool, org_settings: Iterable[dict[str, object]]) -> bool:
    """Whether an account must have a second factor: a platform admin when the platform says so, or a member
    of an organization that requires one (``org_settings``: those of ``repository.org_settings_of_member``)."""
    if platform_admin and settings.mfa_required_for_platform_admins:
        return True
    return any(org.get(MFA_REQUIRED) is True for org in org_settings)


async def required_for(session: AsyncSession, settings: Settings, user: User) -> bool:
    if user.platform_admin and settings.mfa_required_for_platform_admins:
        return True
    return required_by(settings, user.platform_admin, await repository.org_settings_of_member(session, user.id))


def requirement_from(methods: list[str], required: bool) -> Requirement:
    """The requirement of an account with second factors ``methods`` that must (``required``) have one or not."""
    if methods:
        return Requirement("verify", methods)
    return Requirement("enroll" if required else "none", [])


async def requirement(session: AsyncSession, settings: Settings, user: User) -> Requirement:
    """What a sign-in of ``user`` that proved its first factor needs before tokens or a session."""
    methods = await methods_of(session, user.id)
    if methods:
        return requirement_from(methods, False)
    return requirement_from(methods, await required_for(session, settings, user))


async def status(session: AsyncSession, settings: Settings, user: User) -> MfaStatusOut:
    factor = await repository.factor(session, user.id, TOTP)
    confirmed = factor.confirmed_at if factor is not None else None
    return MfaStatusOut(
        methods=await methods_of(session, user.id),
        totp=TotpOut(enrolled_at=confirmed) if confirmed is not None else None,
        passkeys=len(await passkeys.of_user(session, user.id)),
        recovery_codes_remaining=await repository.unused_recovery_codes(session, user.id),
        required=await required_for(session, settings, user),
    )


async def _factors_held(session: AsyncSession, user: User) -> None:
    """Hold the account's factors until this transaction ends: the lock every sign-in holds from reading whether
    the account has a factor until its session is written (``lockout.one_at_a_time``). On PostgreSQL, a sign-in
    of the password alone that read "no factor" while an app was confirmed stored its session after
    ``end_one_factor`` looked, and kept it; and a set-up started in another session while the owner confirmed
    wrote its secret over the confirmed one."""
    await lockout.one_at_a_time(session, lockout.account_key(user.email))


@dataclass(frozen=True)
class EnrolmentPlace:
    """Where an authenticator app is being set up: the one session of the account that sees its secret and
    confirms it (``MfaFactor.started_in``)."""

    key: str
    token_session: str | None = None
    """The token session (refresh token family) setting the app up over the API, which goes on once it is
    confirmed (``sessions.service.end_one_factor``)."""

    @classmethod
    def browser(cls, browser_session_id: str) -> "EnrolmentPlace":
        """A signed-in browser's "My account" page."""
        return cls(f"browser:{browser_session_id}")

    @classmethod
    def sign_in(cls, challenge_id: str) -> "EnrolmentPlace":
        """A sign-in's second step that must set up an app (an ``enroll`` challenge)."""
        return cls(f"sign-in:{challenge_id}")

    @classmethod
    def tokens(cls, family_id: str | None) -> "EnrolmentPlace":
        """An access token's session (its refresh token family) over ``/me/mfa``."""
        return cls(f"tokens:{family_id or ''}", family_id)


async def start_totp(session: AsyncSession, settings: Settings, user: User, place: EnrolmentPlace) -> TotpEnrolmentOut:
    """A new secret for the user's authenticator app, set up at ``place``; it counts once confirmed there with a
    code (``confirm_totp``). One set up elsewhere and not confirmed yet is replaced (its code will not confirm).
    Under the account's lock (``_factors_held``), as every change of its factors."""
    await _factors_held(session, user)
    factor = await repository.factor(session, user.id, TOTP)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("an authenticator app is already enrolled; remove it first")
    secret = totp.new_secret()
    sealed = secretbox.seal(settings, secret)
    if factor is None:
        session.add(MfaFactor(user_id=user.id, kind=TOTP, secret_sealed=sealed, started_in=place.key))
    else:
        factor.secret_sealed, factor.created_at, factor.last_used_step = sealed, utcnow(), None
        factor.started_in = place.key
    await session.flush()
    uri = totp.provisioning_uri(secret, user.email, settings.mfa_totp_issuer)
    return TotpEnrolmentOut(secret=secret, otpauth_uri=uri)


async def totp_to_confirm(
    session: AsyncSession, settings: Settings, user: User, place: EnrolmentPlace
) -> TotpEnrolmentOut:
    """The authenticator app ``place`` set up and has not confirmed yet (a page shown again shows the same
    secret), or a new one: never a secret another session of the account was shown."""
    await _factors_held(session, user)
    factor = await repository.factor(session, user.id, TOTP)
    if factor is None or factor.confirmed_at is not None or factor.started_in != place.key:
        return await start_totp(session, settings, user, place)
    secret = secretbox.open_sealed(settings, factor.secret_sealed).plaintext
    return TotpEnrolmentOut(
        secret=secret, otpauth_uri=totp.provisioning_uri(secret, user.email, settings.mfa_totp_issuer)
    )


async def confirm_totp(
    session: AsyncSession, flows: Flows, actor: Actor, user: User, code: str, place: EnrolmentPlace
) -> list[str]:
    """Confirm the authenticator app ``place`` set up with its current code; the answer is a new set of recovery
    codes. Adding it to an account that has a second factor takes a session that proved one (``stepup``); made on
    one factor, it is told to the address, whose owner may remove it (``notice``).
    Every other sign-in of the account that proved no second factor ends (``end_one_factor``)."""
    await ensure_second_factor_proven(session, actor, user)
    await _factors_held(session, user)
    factor = await repository.factor(session, user.id, TOTP)
    if factor is None or factor.confirmed_at is not None or factor.started_in != place.key:
        raise Conflict("no authenticator app is waiting for confirmation here; start the enrolment again")
    sealed = factor.secret_sealed
    step = totp.matching_step(secretbox.open_sealed(flows.settings, sealed).plaintext, code, totp.now())
    if step is None:
        raise InvalidInput([FieldError("code", "is not the code the authenticator app shows now")])
    made_on_one = await notice.made_on_one_factor_told(session, flows, actor, user, OTP)  # before it counts as held
    factor.enrolled_on_one_factor = made_on_one
    factor.last_used_step, factor.confirmed_at, factor.started_in = step, utcnow(), None
    codes = await _new_recovery_codes(session, user.id)
    await browser_sessions.end_one_factor(session, user.id, but=place.token_session)
    record_for_user(session, actor, "mfa.enrolled", user.id, org_id=None, details={"method": OTP})
    return codes


async def remove_totp(session: AsyncSession, actor: Actor, user: User) -> None:
    """Remove the authenticator app (and the recovery codes, which stand in for it): by a session that proved a
    second factor (``stepup``)."""
    await ensure_second_factor_proven(session, actor, user)
    if not await repository.delete_factors(session, user.id, TOTP):
        raise NotFound("no authenticator app is enrolled")
    await repository.delete_recovery_codes(session, user.id)
    record_for_user(session, actor, "mfa.removed", user.id, org_id=None, details={"method": OTP})


async def regenerate_recovery_codes(session: AsyncSession, actor: Actor, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Only for a session that proved a second factor."""
    await ensure_second_factor_proven(session, actor, user)
    if not await repository.confirmed_kinds(session, user.id) and not await passkeys.has_any(session, user.id):
        raise Conflict("recovery codes come with a second factor; enrol one first")
    codes = await _new_recovery_codes(session, user.id)
    record_for_user(session, actor, "mfa.recovery_codes_regenerated", user.id, org_id=None)
    return codes


async def reset(session: AsyncSession, flows: Flows, actor: Actor, org: Organization, member: Member) -> None:
    """An administrator removes a member's second factors (for accounts they may manage, as for passwords); their
    own only as the owner would (``stepup``)."""
    ensure_may_manage(actor, member)
    await ensure_account_exclusive(session, actor, org, member)
    await _as_owner_would(session, actor, member.user)
    user = member.user
    await lockout.one_at_a_time(session, lockout.account_key(user.email))  # before the factors and challenges
    removed = await repository.delete_factors(session, user.id) + await passkeys.remove_all(session, user.id)
    if not removed:
        raise Conflict("the user has no second factor")
    await repository.delete_recovery_codes(session, user.id)
    await repository.delete_challenges(session, user.id)
    record_for_user(session, actor, "mfa.reset", user.id, org_id=org.id)
    await send_email(session, flows, "mfa_reset", user, org, flows.page_url("account"), 0)


async def import_totp(
    session: AsyncSession, settings: Settings, actor: Actor, org: Organization, member: Member, secret: str
) -> None:
    """An administrator sets a member's authenticator app from a secret it already holds (a migration from
    another system): for accounts the organization may manage, as for passwords; their own only as the owner
    would (``stepup``). It counts at once."""
    ensure_may_manage(actor, member)
    await ensure_account_exclusive(session, actor, org, member)
    await _as_owner_would(session, actor, member.user)
    await lockout.one_at_a_time(session, lockout.account_key(member.user.email))  # before the factors
    await set_imported_totp(session, settings, member.user.id, secret)
    member.user.credentials_proven = False  # a factor the organization knows (core.flows.ownership)
    details = {"method": OTP, "imported": True}
    record_for_user(session, actor, "mfa.enrolled", member.user.id, org_id=org.id, details=details)


async def _as_owner_would(session: AsyncSession, actor: Actor, user: User) -> None:
    """An administrator acting on their own account through the organization's routes is its owner: a session
    that did not prove the second factor the account has changes none (as on ``/me/mfa``)."""
    if actor.user_id == user.id:
        await ensure_second_factor_proven(session, actor, user)


def normal_totp_secret(secret: str, field: str = "secret") -> str:
    """A base32 TOTP secret as authenticator apps write it (spaces, dashes, case and padding do not matter),
    of at least 80 bits; otherwise a 422 naming ``field``."""
    cleaned = "".join(secret.split()).replace("-", "").rstrip("=").upper()
    try:
        decoded = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        decoded = b""
    if len(decoded) < 10 or len(cleaned) > 128:
        raise InvalidInput([FieldError(field, N_("must be a base32 TOTP secret of at least 16 characters (80 bits)"))])
    return cleaned


async def set_imported_totp(session: AsyncSession, settings: Settings, user_id: str, secret: str) -> None:
    """Store ``secret`` (already checked by ``normal_totp_secret``) as the account's confirmed authenticator app,
    sealed; it replaces an app enrolled before. The account's sign-ins without a second factor end."""
    sealed = secretbox.seal(settings, normal_totp_secret(secret))
    factor = await repository.factor(session, user_id, TOTP)
    now = utcnow()
    if factor is None:
        session.add(MfaFactor(user_id=user_id, kind=TOTP, secret_sealed=sealed, created_at=now, confirmed_at=now))
    else:
        factor.secret_sealed, factor.created_at, factor.confirmed_at, factor.last_used_step = sealed, now, now, None
        factor.started_in = None
    await session.flush()
    await browser_sessions.end_one_factor(session, user_id)


async def check(session: AsyncSession, flows: Flows, actor: Actor, user: User, method: str, answer: str) -> bool:
    """Whether ``answer`` is a right, unused second factor of ``method``; a right one is used up."""
    if method == OTP:
        return await _check_totp(session, flows.settings, user, answer)
    if method == RECOVERY_CODE and await repository.use_recovery_code(
        session, user.id, digest(_normal_code(answer)), utcnow()
    ):
        record_for_user(session, acting_as(actor, user), "mfa.recovery_code_used", user.id, org_id=None)
        await send_email(session, flows, "mfa_recovery_code_used", user, None, flows.page_url("account"), 0)
        return True
    return False


async def _check_totp(session: AsyncSession, settings: Settings, user: User, code: str) -> bool:
    factor = await repository.factor(session, user.id, TOTP)
    if factor is None or factor.confirmed_at is None:
        return False
    opened = secretbox.open_sealed(settings, factor.secret_sealed)
    step = totp.matching_step(opened.plaintext, code, totp.now())
    if step is None or not await repository.take_step(session, factor.id, step):
        return False
    if opened.resealed is not None:
        factor.secret_sealed = opened.resealed
    return True


def _normal_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


async def _new_recovery_codes(session: AsyncSession, user_id: str) -> list[str]:
    await repository.delete_recovery_codes(session, user_id)
    codes = [base64.b32encode(secrets.token_bytes(8)).decode()[:12].lower() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=digest(code)) for code in codes)
    await session.flush()
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


async def reseal_all(session: AsyncSession, settings: Settings) -> int:
    """Seal every stored secret with the current key (the first of ``TENANTRY_SECRET_KEY``); how many changed."""
    changed = secretbox.reseal(settings, await repository.all_factors(session), "secret_sealed")
    await session.flush()
    return changed
