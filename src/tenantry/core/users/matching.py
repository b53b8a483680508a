"""The text matcher every search of accounts goes through: the trigram indexes on both databases."""

from collections.abc import Sequence
from functools import cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.users.models import User


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_FIELDS = ("email", "first_name", "last_name")
_SEARCH = table("users_search", column("rowid"), column("users_search"))
"""SQLite: the FTS5 trigram index of migration 0007 (substring match, case-insensitive, terms of 3+ characters)."""

BROAD = 10_000
"""Index hits from which the matcher checks the term on each row a statement walks (``broad``) instead of listing
every hit of the platform-wide index first."""

PG_BROAD = 1_000
"""PostgreSQL's ``BROAD``: its count of a term held everywhere reads the accounts one by one (the planner picks a
sequential scan, ~3 µs a row), 10,000 of them took 30 ms of a broad search's 50 ms budget."""

_HITS_UP_TO = text("SELECT count(*) FROM (SELECT 1 FROM users_search WHERE users_search MATCH :fts_phrase LIMIT :cap)")


def _phrase(term: str, fields: Sequence[str]) -> str:
    return "{" + " ".join(fields) + '} : "' + term.replace('"', '""') + '"'


async def is_broad(session: AsyncSession, term: str) -> bool:
    """Whether at least ``BROAD`` accounts of the platform contain ``term`` (counted from the trigram indexes, up
    to ``BROAD``; on PostgreSQL a term under three characters, which no trigram finds, is broad). A statement then
    starts from the organization's members and checks the term on each (``matches(broad=True)``): starting from
    the index listed every account of every organization that held the term, and a member of an organization of
    3 paid for 200,000 accounts elsewhere (1.1 s on PostgreSQL, where the planner took a long term for a rare one)."""
    if session.get_bind().dialect.name != "sqlite":
        if len(term) < 3:
            return True
        cap = min(BROAD, PG_BROAD)
        found = await session.scalar(_pg_hits_up_to(), {"hits_pattern": _pattern(term), "cap": cap})
        return int(found or 0) >= cap
    if len(term) < 3:
        return False
    found = await session.scalar(_HITS_UP_TO, {"fts_phrase": _phrase(term, _FIELDS), "cap": BROAD})
    return int(found or 0) >= BROAD


@cache
def _pg_hits_up_to() -> Select[int]:
    """PostgreSQL's count of the accounts that hold a term (the parameter ``hits_pattern``), up to ``cap``: built
    once, as building it took a selective search's CPU from 3.6 to 5.4 ms."""
    hits = select(User.id).where(matches("", "postgresql", key="hits")).limit(bindparam("cap", type_=Integer))
    return select(func.count()).select_from(hits.subquery())


def folds_like_the_index(term: str) -> bool:
    """Whether ``LIKE`` finds ``term`` where SQLite's FTS5 trigram index does: ASCII terms, whose letters
    ``lower`` and ``LIKE`` fold as the index does."""
    return term.isascii()


_SEARCHED = {"email": User.email, "first_name": User.first_name, "last_name": User.last_name}


def matches(
    term: str, dialect: str, fields: Sequence[str] = _FIELDS, *, broad: bool = False, key: str | None = None
) -> ColumnElement[bool]:
    """One of ``fields`` (email, first or last name) contains ``term``, ignoring case.

    PostgreSQL answers ``lower(col) LIKE '%term%'`` from its trigram GIN indexes; SQLite from the FTS5
    trigram table (restricted to ``fields``), except for terms under three characters (no trigram), which scan.
    A ``broad`` term (``is_broad``) is matched on each row the statement walks, so a page that stops after 50
    rows does not first list a million hits: with ``LIKE`` when the term is ASCII (SQLite's ``LIKE`` and
    ``lower`` fold ASCII letters as the FTS5 index does; 10,000 rows in ~10 ms, where a rowid seek into the
    index costs ~0.17 ms a row), else with a seek into the FTS5 table (which also folds other letters).

    On PostgreSQL a broad term is matched with ``strpos``, which no trigram index answers: the statement can only
    start from the organization's memberships.

    With a ``key``, the term's parameters are named after it: a statement built once for a term serves any other
    of the same ``term_shape``, given ``term_parameters(other, key)`` when it runs.
    """
    if dialect == "sqlite" and len(term) >= 3 and not (broad and folds_like_the_index(term)):
        # A unique parameter: one statement may ask the index twice (the email, and the names).
        phrase: BindParameter[str] = (
            bindparam(_phrase_key(key, fields), _phrase(term, fields))
            if key
            else bindparam("fts_phrase", _phrase(term, fields), unique=True)
        )
        if broad:
            return exists().where(
                _SEARCH.c.users_search.op("MATCH")(phrase), _SEARCH.c.rowid == literal_column("users.rowid")
            )
        hits = select(_SEARCH.c.rowid).where(_SEARCH.c.users_search.op("MATCH")(phrase))
        return literal_column("users.rowid").in_(hits)
    if dialect != "sqlite" and broad:
        lowered = bindparam(f"{key}_lowered" if key else None, term.lower(), String)
        return or_(*(func.strpos(func.lower(_SEARCHED[name]), lowered) > 0 for name in fields))
    # The pattern goes into the SQL text, not a parameter: a prepared statement switches to a generic plan
    # after five runs, and a generic plan cannot know the pattern is selective, so it scans the organization's
    # members instead of asking the trigram indexes (20 ms instead of 3 in an org of 5,000).
    pattern = bindparam(f"{key}_pattern" if key else None, _pattern(term), String, literal_execute=True)
    return or_(*(func.lower(_SEARCHED[name]).like(pattern, escape="\\") for name in fields))


def _pattern(term: str) -> str:
    return f"%{escape_like(term.lower())}%"


def _phrase_key(key: str, fields: Sequence[str]) -> str:
    return f"{key}_{'_'.join(fields)}"


_PHRASED = (_FIELDS, ("email",), ("first_name", "last_name"))
"""The sets of fields the directory asks the FTS5 index about (``member_matches``)."""


def term_shape(term: str, dialect: str, *, broad: bool) -> tuple[bool, ...]:
    """What of ``term`` decides the statement that ``matches`` (and the directory's ``member_matches``) build
    for it, its values aside: two terms of one shape differ only in the values of their parameters."""
    return (len(term) >= 3, folds_like_the_index(term), broad) if dialect == "sqlite" else (broad,)


def term_parameters(term: str, key: str) -> dict[str, str]:
    """The values of the parameters ``matches(..., key=key)`` names, for ``term``."""
    phrases = {_phrase_key(key, fields): _phrase(term, fields) for fields in _PHRASED}
    return {f"{key}_pattern": _pattern(term), f"{key}_lowered": term.lower(), **phrases}
