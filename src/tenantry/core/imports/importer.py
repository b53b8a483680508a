"""The importer: CSV rows in, accounts and memberships out, a batch at a time.

Each batch is validated (per row, then against the database: existing accounts, roles, resources),
its plaintext passwords are hashed on every core (argon2 releases the GIL, so threads scale), and it is
written with one multi-row INSERT per table in one transaction (COPY on PostgreSQL) — while the next
batch is read and checked, when the units allow it (the CLI's own transactions do). On PostgreSQL two batches are
written at once, so that the database works on one while the other waits for this process; they commit in file
order. Re-running a file is harmless: rows
whose account is already a member are reported (as *present* in the native format, as an error in
eva's, whose rule is a unique email) and create nothing. Rows not created are handed on in line order, each
once every row before it is settled. With ``invite_with``, each row created without a password is mailed its
invitation, written to the outbox in the transaction that creates it.

An import outlives the request that started it, so each batch's transaction reads the caller's rights again as
their next request would (``core.access``): once they may no longer create users here or grant a role the batch
grants (a partner link revoked, an admin removed or demoted, a key revoked), or the sign-in session that started
it has ended (signed out, every session ended, a new password), the import stops there, and every
row not written is reported with the reason (``Summary.stopped``).
"""

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core import access
from tenantry.core.actor import Actor
from tenantry.core.credentials.passwords import Passwords
from tenantry.core.flows.context import Flows
from tenantry.core.flows.invitations import send_invitations
from tenantry.core.imports import store
from tenantry.core.imports.records import ImportLimitExceeded, Record, RecordReader
from tenantry.core.imports.rows import CREATED, FAILED, PRESENT, Candidate, Outcome
from tenantry.core.imports.units import Units
from tenantry.core.memberships import joining
from tenantry.core.memberships.joining import PARTNER_REFUSED
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import repository as resources
from tenantry.core.resources.grants import Grant
from tenantry.core.resources.models import Resource
from tenantry.core.roles import repository as role_repository
from tenantry.core.roles.models import Role
from tenantry.core.roles.service import permissions_of
from tenantry.core.users import repository as accounts
from tenantry.core.users.emailkey import email_key
from tenantry.errors import NotFound, PermissionDenied, Unauthenticated
from tenantry.i18n import N_, _
from tenantry.settings import Settings

_WRITE_ATTEMPTS = 3
_ROWS_PER_WRITE = 1000
"""Rows inserted per write transaction on SQLite: about a tenth of a second of its write lock on a quiet machine
(85 ms into the bench's 20,000 users, 100 ms into its million). Fewer, longer transactions leave FTS5 fewer
segments to merge and commit less often: 10,000 rows with hashes took 1.15-1.29 s in 500-row batches and
transactions, 1.06-1.11 s in 1,000-row ones (the CLI, four runs each, alternating, on a copy of the quick bench's
database).
PostgreSQL locks rows, not the database: there a batch is written in one transaction."""
_YIELD_EVERY = 50
"""Rows read and checked between two turns of the event loop while a batch is being written. Its next statement
(its rows, the role versions, the commit) is sent only when the loop gets a turn: reading a whole chunk of the
file without one left the database's thread idle meanwhile (SQLite, 40,000 rows with hashes, with the rows of
every table in one trip: 8,923-9,678 -> 9,385-9,998 rows/s)."""
_WRITES_AT_ONCE = 2
"""Batches written at once on PostgreSQL. A batch's COPYs keep one server process busy for about as long as this
process takes to read and check the next batch, and one batch at a time left each side idle while the other
worked: 100,000 rows with hashes took 16.0 s one at a time, 10.7-11.8 s two at a time and 10.1-11.9 s three at a
time (the CLI into a copy of the quick bench's database, alternating). Each batch waits for the one before it to
commit before it bumps the role versions they share, and commits after it."""
_WAIT_HOLDING_ROWS_SECONDS = 2.0
"""How long a batch whose rows are in waits, inside its transaction, for the batch before it (about 0.1 s a batch
here). Its new accounts' keys stay locked meanwhile: another import's earlier batch may be waiting for one of them
while the batch before this one waits for that import's later batch, a cycle PostgreSQL cannot see (one of its
waits is in this process), which both imports would wait out until the statement timeout. After this long the
batch rolls back, giving its keys up, waits for the batch before outside any transaction, and writes again."""


class _GaveWay(Exception):
    """The batch before took longer than ``_WAIT_HOLDING_ROWS_SECONDS``: roll back, wait for it, write again."""


class _EarlierBatchFailed(Exception):
    """The batch before failed: this one rolls back too (its error, not this, is the import's)."""


class _Stopped(Exception):
    """The caller may no longer write this batch (``Importer._check_rights``): it rolls back, and its rows not
    written (``members``) are reported not imported, as is every row after it."""

    def __init__(self) -> None:
        super().__init__()
        self.members: list[store.NewMember] = []


def _failed(task: asyncio.Task[None]) -> bool:
    """Whether ``task``, done, ended with an error or was cancelled."""
    return task.cancelled() or task.exception() is not None


ALREADY_MEMBER = N_("a user with this email already exists in the organization")
ACCOUNT_ELSEWHERE = N_("an account with this email already exists outside this organization")
NO_SECRET_KEY = N_("totp_secret cannot be stored: the server has no TENANTRY_SECRET_KEY")
NO_TOTP_IMPORT = N_("totp_secret is not applied to an account that exists outside this organization")
NO_ACCESS = N_("the import stopped: you no longer have access to this organization")
NO_SESSION = N_("the import stopped: the sign-in session that started it has ended")
NO_CREATE = N_("the import stopped: you may no longer create users in this organization")
NO_GRANT = N_("the import stopped: you may no longer grant role %(role)s")
CREATES = "users:create"
"""The permission every surface's import requires; each batch is written only while the caller still holds it."""


class ImportFormat(Protocol):
    name: str
    delimiter: str
    max_fields: int
    """The most cells a record may have (``RecordReader.max_fields``): the format's columns and a few more."""
    existing_member_is_present: bool

    def duplicate(self, first_line: int) -> str:
        """Why a row whose email an earlier row of the file already has fails."""
        ...

    def header(self, record: Record) -> bool: ...

    def parse(self, record: Record) -> Candidate | Outcome: ...

    async def check(self, session: AsyncSession, org_id: str, candidates: list[Candidate]) -> dict[int, str]: ...


@dataclass
class Summary:
    created: int = 0
    present: int = 0
    failed: int = 0
    invited: int = 0
    """Invitations mailed (with ``invite_with``)."""
    asked: int = 0
    """Existing accounts of other organizations asked to join (with ``consent_with``)."""
    seconds: float = 0.0
    stopped: str = ""
    """Why the import stopped before the end of the file: the caller's rights ended (``Importer._check_rights``).
    Every row not written by then is reported failed with it."""

    @property
    def rows(self) -> int:
        return self.created + self.present + self.failed

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Importer:
    org: Organization
    actor: Actor
    """Who imports, as their request was authorized; read again for each batch (``_check_rights``)."""
    format: ImportFormat
    passwords: Passwords
    units: Units
    settings: Settings
    """The server's, for the rules ``_check_rights`` reads again (a second factor required now)."""
    on_outcome: Callable[[Outcome], None] = lambda _: None
    """Called with each row not created, in line order: a batch's before it is written (so a report made
    durable at ``on_batch`` holds them even if the process dies just after the commit), except rows found
    created by someone else only while writing, which follow their batch."""
    on_batch: Callable[["Summary"], None] = lambda _: None
    """Called each time a batch is settled (a progress bar's cue)."""
    invite_with: Flows | None = None
    consent_with: Flows | None = None
    """With it, a row whose email has an account outside the organization invites that account
    (``joining.attach``: it joins once its owner accepts) and reads as created, like a new address;
    without it such a row fails."""
    consent_always: bool = False
    """Ask that account's consent even when the actor is a platform admin (the operator's CLI acts as the
    system: an import never takes an account from another organization without its owner's yes)."""
    seal: Callable[[str], str] | None = None
    """Seals an imported TOTP secret (``core.secretbox`` with the server's key); without it (no
    ``TENANTRY_SECRET_KEY``) a row with a ``totp_secret`` fails."""
    batch_size: int = 500
    max_bytes: int | None = None
    max_rows: int | None = None
    summary: Summary = field(default_factory=Summary)
    _reader: RecordReader | None = None
    _batch: list[Candidate] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict)
    _roles: dict[str, Role | None] = field(default_factory=dict)
    _header_done: bool = False
    _rows: int = 0
    _last_line: int = 0
    _held: list[Outcome] = field(default_factory=list)
    _started: float = field(default_factory=time.perf_counter)
    _writing: deque[asyncio.Task[None]] = field(default_factory=deque)
    """The batches being written, oldest first."""
    _dialect: str = "sqlite"

    @property
    def reader(self) -> RecordReader:
        if self._reader is None:
            self._reader = RecordReader(self.format.delimiter, self.max_bytes, self.format.max_fields)
        return self._reader

    async def feed(self, chunk: bytes) -> None:
        try:
            await self._take(self.reader.feed(chunk))
        except BaseException:
            await self._abandon()
            raise

    async def finish(self) -> Summary:
        try:
            await self._take(self.reader.close())
            await self._flush()
            await self._written()
        except BaseException:
            await self._abandon()
            raise
        self._release(None)
        self.summary.seconds = time.perf_counter() - self._started
        return self.summary

    async def _take(self, records: list[Record]) -> None:
        for index, record in enumerate(records):
            if self._writing and index % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a batch being written goes on to its next statement (``_YIELD_EVERY``)
            if not self._header_done:
                self._header_done = True
                if self.format.header(record):
                    continue
            self._rows += 1
            self._last_line = record.line
            if self.max_rows is not None and self._rows > self.max_rows:
                raise ImportLimitExceeded(_("the file has more than %(rows)s rows") % {"rows": self.max_rows})
            parsed = self.format.parse(record)
            if isinstance(parsed, Outcome):
                self._report(parsed)
            else:
                self._batch.append(parsed)
            if len(self._batch) >= self.batch_size:
                await self._flush()

    def _report(self, outcome: Outcome) -> None:
        if outcome.status == CREATED:
            self.summary.created += 1
        elif outcome.status == PRESENT:
            self.summary.present += 1
        else:
            self.summary.failed += 1
        if outcome.status != CREATED:
            self._held.append(outcome)

    def _release(self, settled_to: int | None) -> None:
        """Hand on the rows not created up to line ``settled_to`` (all when None), in line order."""
        self._held.sort(key=lambda outcome: outcome.line)
        count = len(self._held)
        if settled_to is not None:
            count = next((i for i, held in enumerate(self._held) if held.line > settled_to), count)
        ready, self._held = self._held[:count], self._held[count:]
        for outcome in ready:
            self.on_outcome(outcome)
        self.on_batch(self.summary)

    def _fail(self, candidate: Candidate, reason: str) -> None:
        self._report(Outcome(candidate.line, candidate.email, FAILED, reason))

    async def _flush(self) -> None:
        await self._written(leaving=len(self._writing))  # no wait, unless a batch being written has failed already
        batch, self._batch, settled_to = self._batch, [], self._last_line
        if self.summary.stopped:
            for candidate in batch:
                self._fail(candidate, self.summary.stopped)
            await self._written()
            self._release(settled_to)
            return
        fresh = []
        for candidate in batch:
            first = self._seen.setdefault(email_key(candidate.email), candidate.line)
            if first != candidate.line:
                self._fail(candidate, self.format.duplicate(first))
            else:
                fresh.append(candidate)
        if not fresh:
            await self._written()
            self._release(settled_to)
            return
        async with self.units.read() as session:
            ready = await self._resolve(session, fresh)
        hashes = await self.passwords.hash_many([plain for _, plain in ready if plain is not None])
        plaintext_rows = (member for member, plain in ready if plain is not None)
        for member, password_hash in zip(plaintext_rows, hashes, strict=True):
            member.password_hash = password_hash
        await self._written(leaving=(_WRITES_AT_ONCE if self._dialect == "postgresql" else 1) - 1)
        writing = self._write([member for member, _ in ready], settled_to, self._writing[-1] if self._writing else None)
        if self.units.overlapping:
            self._writing.append(asyncio.create_task(writing))
        else:
            await writing

    async def _written(self, leaving: int = 0) -> None:
        """Wait for the batches being written, oldest first, until at most ``leaving`` are; for all of them when
        one has failed already. A failure is this call's, and the later batches are cancelled: they would wait
        for the failed one before committing."""
        if any(task.done() and _failed(task) for task in self._writing):
            leaving = 0
        while len(self._writing) > leaving:
            writing = self._writing.popleft()
            try:
                await writing
            except BaseException:
                await self._abandon()
                raise

    async def _abandon(self) -> None:
        """The import stops on an error: the batches still being written roll back rather than commit after it."""
        for task in self._writing:
            task.cancel()
        await asyncio.gather(*self._writing, return_exceptions=True)
        self._writing.clear()

    async def _resolve(
        self, session: AsyncSession, candidates: list[Candidate]
    ) -> list[tuple[store.NewMember, str | None]]:
        """Rows that pass every check against the database, with the plaintext password each still needs hashed."""
        self._dialect = session.get_bind().dialect.name
        existing = await store.existing_accounts(session, self.org.id, [c.email for c in candidates])
        await self._load_roles(session, {name for c in candidates for name in [*c.roles, *(r for r, _ in c.scoped)]})
        found = await resources.find(session, self.org.id, {ref for c in candidates for _, ref in c.scoped})
        failures = await self.format.check(session, self.org.id, candidates)
        ready: list[tuple[store.NewMember, str | None]] = []
        role_ids = {name: role.id for name, role in self._roles.items() if role is not None}
        for candidate in candidates:
            member_already = existing.get(email_key(candidate.email))
            invites = member_already is False and self.consent_with is not None
            reason = failures.get(candidate.line) or self._role_problem(candidate)
            if member_already is not None and not invites:
                self._existing(candidate, member_already)
            elif reason:
                self._fail(candidate, reason)
            elif candidate.totp_secret is not None and (invites or self.seal is None):
                self._fail(candidate, _(NO_TOTP_IMPORT if invites else NO_SECRET_KEY))
            elif missing := [ref for _, ref in candidate.scoped if ref not in found]:
                self._fail(candidate, _("resource %(resource)s does not exist") % {"resource": missing[0]})
            elif invites and self.actor.partner_org_id is not None:
                self._fail(candidate, PARTNER_REFUSED)
            else:  # an invited account keeps its own password and names: the row's are not applied
                member = self._new_member(candidate, found, role_ids)
                member.attach = invites
                ready.append((member, None if invites else candidate.password))
        return ready

    def _existing(self, candidate: Candidate, is_member: bool) -> None:
        if is_member and self.format.existing_member_is_present:
            self._report(Outcome(candidate.line, candidate.email, PRESENT, _("already present")))
        else:
            self._fail(candidate, _(ALREADY_MEMBER if is_member else ACCOUNT_ELSEWHERE))

    async def _load_roles(self, session: AsyncSession, names: set[str]) -> None:
        unknown = sorted(names - self._roles.keys())
        if unknown:
            by_name = {role.name: role for role in await role_repository.find(session, self.org.id, unknown)}
            self._roles.update({name: by_name.get(name) for name in unknown})

    def _role_problem(self, candidate: Candidate) -> str:
        for name in [*candidate.roles, *(role for role, _resource in candidate.scoped)]:
            role = self._roles.get(name)
            if role is None:
                return _("unknown role %(role)s") % {"role": repr(name)}
            if not self.actor.holds(permissions_of(role)):
                return _("cannot grant role %(role)s: it holds permissions you do not have") % {"role": repr(name)}
        return ""

    def _new_member(self, candidate: Candidate, found: dict[str, Resource], role_id: dict[str, str]) -> store.NewMember:
        return store.NewMember(
            line=candidate.line,
            email=candidate.email,
            first_name=candidate.first_name,
            last_name=candidate.last_name,
            attributes=candidate.attributes,
            password_hash=candidate.password_hash,
            email_verified=candidate.email_verified,
            status=candidate.status,
            role_ids=list(dict.fromkeys(role_id[name] for name in candidate.roles)),
            scoped=list(dict.fromkeys((role_id[name], found[ref].id) for name, ref in candidate.scoped)),
            totp_sealed=self.seal(candidate.totp_secret) if self.seal and candidate.totp_secret else None,
            locale=candidate.locale,
        )

    async def _write(
        self, members: list[store.NewMember], settled_to: int, previous: asyncio.Task[None] | None
    ) -> None:
        """Insert the batch, on SQLite ``_ROWS_PER_WRITE`` rows per transaction (each holds the write lock briefly);
        then hand on the rows someone else created meanwhile. ``previous``: the batch before, still being written.

        Once the rows are in, each transaction waits for ``previous`` to be settled (giving way after
        ``_WAIT_HOLDING_ROWS_SECONDS``), then hands on the rows known not to be created up to ``settled_to``
        (durable before the commit, after every earlier row), and only then bumps the role versions and commits:
        two batches never hold the same version row at once, and they commit in file order. When the batch fails,
        those rows are still handed on once ``previous`` has succeeded."""

        async def turn() -> None:
            if previous is not None and not previous.done():
                done, _ = await asyncio.wait({previous}, timeout=_WAIT_HOLDING_ROWS_SECONDS)
                if not done:
                    raise _GaveWay
            if previous is not None and _failed(previous):
                raise _EarlierBatchFailed
            if self.summary.stopped:  # an import stopped by the batch before writes nothing more
                raise _Stopped
            self._release(settled_to)

        async def after_previous() -> None:
            if previous is not None:
                await asyncio.wait({previous})

        try:
            await self._write_parts(members, settled_to, turn, after_previous)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await after_previous()
            if previous is not None and _failed(previous):
                raise
            if isinstance(error, _Stopped):
                for member in error.members:
                    self._report(Outcome(member.line, member.email, FAILED, self.summary.stopped))
            self._release(settled_to)
            if not isinstance(error, _Stopped):
                raise

    async def _write_parts(
        self,
        members: list[store.NewMember],
        settled_to: int,
        turn: Callable[[], Awaitable[None]],
        after_previous: Callable[[], Awaitable[None]],
    ) -> None:
        """The batch, a part at a time (see ``_write``)."""
        if not members:
            await turn()
            return
        step = _ROWS_PER_WRITE if self._dialect == "sqlite" else len(members)
        for start in range(0, len(members), step):
            part = members[start : start + step]
            try:
                existing, attached, invited = await self._write_part(part, turn, after_previous)
            except _Stopped as stopped:
                stopped.members = members[start:]
                raise
            for member in part:
                if (key := member.key) in attached:
                    self.summary.asked += 1
                    self._report(Outcome(member.line, member.email, CREATED))
                elif key in existing:
                    self._existing(Candidate(line=member.line, email=member.email), existing[key])
                else:
                    self._report(Outcome(member.line, member.email, CREATED))
            self.summary.invited += invited
        self._release(settled_to)

    async def _write_part(
        self,
        members: list[store.NewMember],
        turn: Callable[[], Awaitable[None]],
        after_previous: Callable[[], Awaitable[None]],
    ) -> tuple[dict[str, bool], set[str], int]:
        """One transaction: the accounts that exist already (someone else created them meanwhile: reported,
        not lost), the keys of those invited to join, and the invitations sent. The rows are first written as
        the batch's check found them (no account to invite: no second look); a clash retries, looking again.
        ``turn`` is awaited once the rows are in; when it gives way, the part is written again once
        ``after_previous`` returns (``_write``)."""
        attempt = 0 if not any(member.attach for member in members) else 1
        while True:
            try:
                async with self.units.write() as session:
                    await self._check_rights(session, members)
                    if attempt == 0:
                        existing: dict[str, bool] = {}
                    else:
                        existing = await store.existing_accounts(session, self.org.id, [m.email for m in members])
                    to_insert = [member for member in members if member.key not in existing]
                    to_attach = [member for member in members if existing.get(member.key) is False]
                    await store.insert_members(session, self.org.id, self.actor, to_insert, turn=turn)
                    attached = await self._attach(session, to_attach)
                    return existing, attached, await self._invite(session, to_insert)
            except _GaveWay:
                await after_previous()  # outside the transaction, holding no key; not an attempt
            except IntegrityError:
                if attempt == _WRITE_ATTEMPTS:
                    raise
                attempt += 1

    async def _check_rights(self, session: AsyncSession, members: list[store.NewMember]) -> None:
        """The caller's rights read again in the transaction that writes ``members``, as their next request would
        read them (``core.access``): revoking a partner link, removing or demoting an admin, revoking a key, or
        ending the sign-in session that started the import stops it, from its next batch. ``_Stopped`` unless the
        caller may still create users here and grant every role the rows grant; the actor is what the rows' events
        name."""
        if self.summary.stopped:
            raise _Stopped
        try:
            actor = await access.actor_now(session, self.settings, self.actor, self.org)
        except (NotFound, PermissionDenied):
            self._stop(_(NO_ACCESS))
        except Unauthenticated:
            self._stop(_(NO_SESSION))
        if not actor.holds({CREATES}):
            self._stop(_(NO_CREATE))
        by_id = {role.id: role for role in self._roles.values() if role is not None}
        granted = {role_id for member in members for role_id in [*member.role_ids, *(r for r, _ in member.scoped)]}
        for role in sorted((by_id[role_id] for role_id in granted), key=lambda role: role.name):
            if not actor.holds(permissions_of(role)):
                self._stop(_(NO_GRANT) % {"role": repr(role.name)})
        self.actor = actor

    def _stop(self, reason: str) -> NoReturn:
        self.summary.stopped = reason
        raise _Stopped

    async def _attach(self, session: AsyncSession, members: list[store.NewMember]) -> set[str]:
        """Invite the existing accounts of ``members`` (see ``consent_with``); their lowercased emails."""
        if self.consent_with is None:
            return set()
        by_id = {role.id: role for role in self._roles.values() if role is not None}
        found = await resources.find(session, self.org.id, {ref for member in members for _, ref in member.scoped})
        for member in members:
            user = await accounts.get_by_email(session, member.email)
            assert user is not None  # found in this transaction by store.existing_accounts
            granted = [by_id[role_id] for role_id in member.role_ids]
            scoped = [Grant(by_id[role_id], found[ref]) for role_id, ref in member.scoped if ref in found]
            joined = await joining.attach(
                session,
                self.actor,
                self.org,
                user,
                granted,
                self.consent_with,
                scoped=scoped,
                always_ask=self.consent_always,
            )
            joined.membership.attributes = member.attributes
        await session.flush()
        return {member.key for member in members}

    async def _invite(self, session: AsyncSession, created: list[store.NewMember]) -> int:
        """Mail an invitation to each row created without a password, when the import was asked to."""
        if self.invite_with is None:
            return 0
        user_ids = [member.user_id for member in created if member.invited]
        return await send_invitations(session, self.invite_with, self.actor, self.org, user_ids)
