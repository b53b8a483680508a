"""Bulk import through `tenantry users import`, the way an operator runs it: once with imported hashes, once
with plaintext passwords, each into an organization of its own in the seeded database.

The importer is not pinned: it hashes plaintext passwords on every core, so its ceiling is
cores x the per-core hash rate. Rows per second are the CLI's own figure (reading, checking, hashing
and writing, from the first row to the last commit).
"""

import csv
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import argon2

ROOT = Path(__file__).resolve().parent.parent
TENANTRY = str(ROOT / ".venv" / "bin" / "tenantry")


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    created: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


def _tenantry(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([TENANTRY, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tenantry {args[0]} failed: {done.stderr[-2000:]}")
    return done.stdout


def _letters(number: int) -> str:
    """A number in letters (0 -> "a", 26 -> "ba"): the password policy refuses passwords holding a part of
    the email, and these emails carry the row number."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[digit] + word
        if number == 0:
            return word


def _write_csv(path: Path, rows: int, kind: str, prefix: str) -> None:
    # Imported hashes come from another system: argon2id at the library's defaults, verified on first sign-in.
    imported = argon2.PasswordHasher().hash("An imported password")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "password_hash" if kind == "hashes" else "password"])
        for i in range(rows):
            secret = imported if kind == "hashes" else f"Quiet harbor lamp {_letters(i)}"
            writer.writerow([f"{prefix}{i}@import.example.com", f"First{i}", f"Last{i}", secret])


def measure(url: str, rows: dict[str, int]) -> list[ImportResult]:
    """Import ``rows[kind]`` rows for each kind ("hashes", "plaintext") into a new organization."""
    env = {**os.environ, "TENANTRY_DATABASE_URL": url, "TENANTRY_LOG_LEVEL": "WARNING"}
    stamp = str(int(time.time()))
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for kind, count in rows.items():
            slug = f"import-{kind}-{stamp}"
            _tenantry("bootstrap", "--org-slug", slug, "--org-name", slug, "--email", f"{slug}@import.example.com",
                      "--add-platform-admin", "--json", env=env)  # fmt: skip
            source = Path(directory) / f"{kind}.csv"
            _write_csv(source, count, kind, f"{kind}-{stamp}-")
            summary = json.loads(_tenantry("users", "import", str(source), "--org", slug, "--json", env=env))
            if summary["created"] != count:
                raise RuntimeError(f"{kind} import created {summary['created']} of {count} rows: {summary}")
            results.append(ImportResult(kind, summary["rows"], summary["created"], summary["seconds"]))
    return results
