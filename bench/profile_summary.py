"""Where a py-spy profile's time went: the share of samples under each part of the request path.

    python -m bench.profile_summary bench/results/profile-get_user-postgresql.txt

Reads py-spy's raw (collapsed) output: one line per distinct stack, ``frame;frame;... count``.
"""

import sys
from collections import Counter
from pathlib import Path

# First match wins, innermost frame first: a sample counts towards the part its deepest known frame is in.
PARTS = (
    ("database driver (asyncpg / sqlite3)", ("asyncpg", "aiosqlite", "sqlite3")),
    ("SQLAlchemy ORM (loading, identity map, unit of work)", ("sqlalchemy/orm",)),
    ("SQLAlchemy Core (compile, execute, result rows)", ("sqlalchemy",)),
    ("pydantic (validation, serialization)", ("pydantic",)),
    ("token verification (JWT)", ("jwt", "joserfc", "authlib", "cryptography")),
    ("Tenantry auth (principal, policy)", ("tenantry/auth",)),
    ("Tenantry core", ("tenantry/core",)),
    ("Tenantry HTTP surface and middleware", ("tenantry",)),
    ("FastAPI (dependencies, routing)", ("fastapi",)),
    ("Starlette / uvicorn (HTTP, ASGI)", ("starlette", "uvicorn", "httptools", "h11")),
    ("asyncio event loop", ("asyncio", "uvloop")),
)


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, needles in PARTS:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def summary(path: Path, top: int = 12) -> str:
    parts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        stack = stack_text.split(";")
        total += count
        parts[part_of(stack)] += count
        for frame in set(stack):
            if "tenantry/" in frame:
                inclusive[frame] += count
    if not total:
        return f"{path}: no samples"
    lines = [f"{path.name}: {total} samples", "", "| part of the path | share of samples |", "|---|---|"]
    lines += [f"| {name} | {count / total:.0%} |" for name, count in parts.most_common()]
    lines += ["", "| Tenantry function (inclusive) | share |", "|---|---|"]
    lines += [f"| `{frame}` | {count / total:.0%} |" for frame, count in inclusive.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(summary(Path(argument)))
        print()
