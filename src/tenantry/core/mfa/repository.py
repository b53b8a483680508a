"""Queries of the MFA tables."""

from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.memberships.models import MEMBERSHIP_ACTIVE, Membership
from tenantry.core.mfa.models import TOTP, MfaChallenge, MfaFactor, RecoveryCode, WebAuthnCredential
from tenantry.core.orgs.models import Organization, live_org


async def factor(session: AsyncSession, user_id: str, kind: str) -> MfaFactor | None:
    statement = select(MfaFactor).where(MfaFactor.user_id == user_id, MfaFactor.kind == kind)
    return (await session.scalars(statement)).first()


async def all_factors(session: AsyncSession) -> list[MfaFactor]:
    return list(await session.scalars(select(MfaFactor).order_by(MfaFactor.id)))


async def confirmed_kinds(session: AsyncSession, user_id: str) -> set[str]:
    statement = select(MfaFactor.kind).where(MfaFactor.user_id == user_id, MfaFactor.confirmed_at.is_not(None))
    return set(await session.scalars(statement))


async def take_step(session: AsyncSession, factor_id: str, step: int) -> bool:
    """Record that a code of ``step`` was accepted, unless one of that step or a later one already was."""
    result = await session.execute(
        update(MfaFactor)
        .where(MfaFactor.id == factor_id, or_(MfaFactor.last_used_step.is_(None), MfaFactor.last_used_step < step))
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def delete_factors(session: AsyncSession, user_id: str, kind: str | None = None) -> int:
    statement = delete(MfaFactor).where(MfaFactor.user_id == user_id)
    if kind is not None:
        statement = statement.where(MfaFactor.kind == kind)
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


async def trust_of_factors(session: AsyncSession, user_id: str) -> tuple[bool, bool]:
    """Whether the account has a second factor made on one factor (``enrolled_on_one_factor``), and whether it has
    one made otherwise: one statement."""

    def held(made_on_one_factor: bool) -> ColumnElement[bool]:
        app = exists().where(
            MfaFactor.user_id == user_id,
            MfaFactor.confirmed_at.is_not(None),
            MfaFactor.enrolled_on_one_factor.is_(made_on_one_factor),
        )
        passkey = exists().where(
            WebAuthnCredential.user_id == user_id, WebAuthnCredential.enrolled_on_one_factor.is_(made_on_one_factor)
        )
        return or_(app, passkey)

    on_one, otherwise = (await session.execute(select(held(True), held(False)))).one()
    return bool(on_one), bool(otherwise)


async def delete_one_factor_enrolments(session: AsyncSession, user_id: str) -> tuple[list[str], list[str]]:
    """Delete the account's second factors made on one factor: the kinds of the app factors and the ids of the
    passkeys deleted."""
    kinds = await session.scalars(
        delete(MfaFactor)
        .where(MfaFactor.user_id == user_id, MfaFactor.enrolled_on_one_factor.is_(True))
        .returning(MfaFactor.kind)
        .execution_options(synchronize_session=False)
    )
    removed_kinds = sorted(kinds)
    passkey_ids = await session.scalars(
        delete(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user_id, WebAuthnCredential.enrolled_on_one_factor.is_(True))
        .returning(WebAuthnCredential.id)
        .execution_options(synchronize_session=False)
    )
    return removed_kinds, sorted(passkey_ids)


async def delete_recovery_codes(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


async def second_factors(session: AsyncSession, user_id: str) -> tuple[bool, bool, int]:
    """Whether the account has a confirmed authenticator app, whether it has a passkey, and how many unused
    recovery codes it holds: one statement, since every sign-in asks."""
    statement = select(
        exists().where(MfaFactor.user_id == user_id, MfaFactor.kind == TOTP, MfaFactor.confirmed_at.is_not(None)),
        exists().where(WebAuthnCredential.user_id == user_id),
        select(func.count()).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)).scalar_subquery(),
    )
    totp, passkey, codes = (await session.execute(statement)).one()
    return bool(totp), bool(passkey), int(codes)


async def unused_recovery_codes(session: AsyncSession, user_id: str) -> int:
    statement = select(func.count()).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    return int((await session.execute(statement)).scalar_one())


async def use_recovery_code(session: AsyncSession, user_id: str, code_hash: str, now: datetime) -> bool:
    """Spend the unused code with this hash: exactly one of concurrent uses succeeds."""
    result = await session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def challenge(session: AsyncSession, token_hash: str, *, to_answer: bool = False) -> MfaChallenge | None:
    """The challenge of ``token_hash``; ``to_answer``: locked (PostgreSQL) until the transaction ends, so that
    answers to one challenge are decided one at a time, each reading what the one before it left."""
    statement = select(MfaChallenge).where(MfaChallenge.token_hash == token_hash)
    if to_answer:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(statement)).first()


async def delete_unfinished(session: AsyncSession, user_id: str) -> None:
    """What sign-ins of the account began and did not finish: second steps still to answer, and factors set up
    and never confirmed (an authenticator app's secret whoever began it has seen)."""
    await delete_unfinished_of_all(session, [user_id])


async def delete_unfinished_of_all(session: AsyncSession, user_ids: list[str]) -> None:
    """``delete_unfinished`` for several accounts in one statement each (the caller bounds the list)."""
    await session.execute(delete(MfaChallenge).where(MfaChallenge.user_id.in_(user_ids)))
    await session.execute(delete(MfaFactor).where(MfaFactor.user_id.in_(user_ids), MfaFactor.confirmed_at.is_(None)))


async def count_challenge_failure(session: AsyncSession, challenge_id: str, limit: int, now: datetime) -> None:
    """One more wrong answer (atomically: concurrent ones all count); the ``limit``-th spends the challenge. A
    challenge deleted meanwhile (an invitation accepted, a reset) counts nothing: the next answer finds it gone."""
    counted = await session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge_id)
        .values(failures=MfaChallenge.failures + 1)
        .returning(MfaChallenge.failures)
        .execution_options(synchronize_session=False)
    )
    failures = counted.scalar()
    if failures is not None and int(failures) >= limit:
        await spend_challenge(session, challenge_id, now)


async def spend_challenge(session: AsyncSession, challenge_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge_id, MfaChallenge.spent_at.is_(None))
        .values(spent_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def delete_challenges(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(MfaChallenge).where(MfaChallenge.user_id == user_id))


async def purge_challenges(session: AsyncSession, expired_before: datetime) -> None:
    await session.execute(delete(MfaChallenge).where(MfaChallenge.expires_at < expired_before))


async def org_settings_of_member(session: AsyncSession, user_id: str) -> list[dict[str, object]]:
    """The settings of the live organizations where the account is an active member."""
    statement = (
        select(Organization.settings)
        .join(Membership, Membership.org_id == Organization.id)
        .where(
            Membership.user_id == user_id,
            Membership.status == MEMBERSHIP_ACTIVE,
            live_org(),
        )
    )
    return list(await session.scalars(statement))
