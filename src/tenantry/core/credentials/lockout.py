"""Temporary lockout of a login name after repeated failed sign-ins (Keycloak's rules).

Failures are counted per login name; the count restarts after ``reset_seconds`` without a failure. Once
it reaches ``max_failures``, every further failure locks the name for ``increment_seconds`` times the
number of whole rounds of ``max_failures`` failures so far, at most ``max_seconds`` (defaults: 30
failures, +1 minute per round, at most 15 minutes, reset after 12 hours). Attempts while locked are refused
without being counted.

Only a sign-in that completes clears the count (``clear``): a right password whose sign-in still waits for
its second factor clears nothing, so wrong second factors keep counting however often the password is
given again (wrong codes count here too: ``core.mfa.challenges``).

Unknown login names are counted exactly like known ones, so that the database work (and so the time)
of a sign-in does not tell whether an account exists.

Attempts on one login name are decided one at a time (``one_at_a_time``), so that a burst of guesses in
parallel is counted, and locked out, exactly like the same guesses one after another.
"""

import enum
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.models import LoginFailure
from tenantry.core.users.emailkey import email_key
from tenantry.settings import Settings


@dataclass(frozen=True)
class LockoutRules:
    max_failures: int = 30
    increment_seconds: int = 60
    max_seconds: int = 900
    reset_seconds: int = 12 * 3600

    @classmethod
    def of(cls, settings: Settings) -> "LockoutRules":
        return cls(
            max_failures=settings.login_max_failures,
            increment_seconds=settings.login_lockout_increment_seconds,
            max_seconds=settings.login_lockout_max_seconds,
            reset_seconds=settings.login_failure_reset_seconds,
        )

    def wait_after(self, failures: int) -> int:
        """Seconds of lockout after the ``failures``-th failure in a row (0: not locked)."""
        rounds = failures // self.max_failures
        return min(rounds * self.increment_seconds, self.max_seconds) if rounds else 0


def account_key(login_name: str) -> str:
    return hashlib.sha256(email_key(login_name).encode()).hexdigest()


_STATE = select(LoginFailure.locked_until).where(LoginFailure.account_key == bindparam("key"))


async def state(session: AsyncSession, key: str, now: datetime) -> tuple[bool, datetime | None]:
    """Whether failures of ``key`` are on record, and when its lockout ends (None: not locked)."""
    row = (await session.execute(_STATE, {"key": key})).first()
    return state_of(row is not None, row[0] if row is not None else None, now)


def state_of(recorded: bool, locked_until: datetime | None, now: datetime) -> tuple[bool, datetime | None]:
    """``state`` from its row as read (``recorded``: a row exists; ``locked_until``: its column)."""
    return recorded, (locked_until if locked_until is not None and locked_until > now else None)


StateReader = Callable[[str, datetime], Awaitable[tuple[bool, datetime | None]]]
"""Reads ``state`` of a key at a time; a sign-in may read it in a statement of its own (``verify_counted``)."""


async def record_failure(session: AsyncSession, rules: LockoutRules, key: str, now: datetime) -> int:
    """Count one failure (atomically: concurrent failures all count) and lock when due; the new count."""
    stale = now - timedelta(seconds=rules.reset_seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = (
        insert(LoginFailure)
        .values(account_key=key, failures=1, last_failure_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[LoginFailure.account_key],
            set_={
                "failures": case((LoginFailure.last_failure_at < stale, 1), else_=LoginFailure.failures + 1),
                "last_failure_at": now,
            },
        )
        .returning(LoginFailure.failures)
    )
    failures = int((await session.execute(upsert)).scalar_one())
    wait = rules.wait_after(failures)
    if wait:
        await session.execute(
            update(LoginFailure)
            .where(LoginFailure.account_key == key)
            .values(locked_until=now + timedelta(seconds=wait))
            .execution_options(synchronize_session=False)
        )
    await _forget_stale(session, stale, now)
    return failures


async def one_at_a_time(session: AsyncSession, key: str) -> None:
    """Wait until no other transaction is deciding an attempt on ``key``, and hold others off until this one ends.
    Whatever changes or deletes an account's challenges or factors (answering, a new password, ending every
    session, an administrator's reset or import) takes it first, so their row locks never wait in a cycle.

    PostgreSQL runs sign-ins side by side: without this, a burst of guesses for one login name all read its
    state before any of their failures was counted, so each was evaluated and counted past the lockout (and a
    right password among them signed in). A transaction-level advisory lock on the key (no row needed, so an
    unknown name waits exactly like a known one) makes each attempt read the state the attempts before it left.
    It is taken after the secret was checked, so that hashes still run side by side; only the decision and
    the writes after it wait. SQLite needs none: its writers take turns already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    # One 64-bit lock key from the name's SHA-256: two names sharing one would wait for each other, and finding
    # a name that shares a given account's takes 2**64 hashes (32 bits took a laptop minutes).
    await session.execute(select(func.pg_advisory_xact_lock(int(key[:16], 16) - 2**63)))


class Verdict(enum.Enum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"


async def verify_counted(
    session: AsyncSession,
    rules: LockoutRules,
    login_name: str,
    verify: Callable[[], Awaitable[bool]],
    now: datetime,
    *,
    state_when_right: StateReader | None = None,
) -> Verdict:
    """Check a secret of ``login_name`` under its lockout: a wrong one counts as a failed sign-in; a right one
    clears nothing (the caller ``clear``s the count once the sign-in it proves has completed).

    ``verify`` runs even while the name is locked, so the time taken does not tell. The failure is written
    to ``session``: a caller answering with an error must keep it (``TenantryError(keep_changes=True)``).
    After a right secret the name's state is read with ``state_when_right`` when given (a sign-in reads it
    with what it needs next, in one statement); after a wrong one always with ``state``, so that a wrong
    secret costs the same database work whether the account exists or not.
    """
    correct = await verify()
    key = account_key(login_name)
    await one_at_a_time(session, key)
    if correct and state_when_right is not None:
        _, locked_until = await state_when_right(key, now)
    else:
        _, locked_until = await state(session, key, now)
    if locked_until is not None:
        return Verdict.LOCKED
    if correct:
        return Verdict.RIGHT
    await record_failure(session, rules, key, now)
    return Verdict.WRONG


async def clear(session: AsyncSession, key: str) -> None:
    """Forget the failures of ``key``: its sign-in has completed (every factor it needs was proven)."""
    await session.execute(delete(LoginFailure).where(LoginFailure.account_key == key))


async def _forget_stale(session: AsyncSession, stale: datetime, now: datetime) -> None:
    """Drop counts that would restart anyway, so that the table holds only the last ``reset_seconds``."""
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.last_failure_at < stale,
            or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < now),
        )
    )
