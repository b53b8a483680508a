"""Measure `tenantry users import` on 10,000 rows: imported hashes, then plaintext passwords.

Usage: .venv/bin/python scripts/bench_import.py DATABASE_URL [ROWS]

The database must be empty or absent (SQLite) or an empty PostgreSQL database; each run imports into
a fresh organization. Production argon2 settings apply unless TENANTRY_ARGON2_* say otherwise.
"""

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import argon2

TENANTRY = str(Path(sys.executable).with_name("tenantry"))


def _run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([TENANTRY, *args], env=env, check=False, capture_output=True, text=True)  # noqa: S603
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return done.stdout


def _write(path: Path, rows: int, kind: str, prefix: str) -> None:
    imported = argon2.PasswordHasher().hash("An imported password")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "password_hash" if kind == "hash" else "password"])
        for i in range(rows):
            secret = imported if kind == "hash" else f"Quiet harbor lamp {i}"
            writer.writerow([f"{prefix}{i}@example.com", f"First{i}", f"Last{i}", secret])


def main() -> None:
    url, rows = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    env = {**os.environ, "TENANTRY_DATABASE_URL": url}
    _run("db", "upgrade", env=env)
    stamp = str(int(time.time()))
    with tempfile.TemporaryDirectory() as directory:
        for kind in ("hash", "plaintext"):
            slug = f"bench-{kind}-{stamp}"
            _run(
                "bootstrap", "--org-slug", slug, "--org-name", slug, "--email", f"{slug}@example.com", "--json", env=env
            )
            source = Path(directory) / f"{kind}.csv"
            _write(source, rows, kind, f"{kind}-{stamp}-")
            summary = json.loads(_run("users", "import", str(source), "--org", slug, "--json", env=env))
            rate = summary["created"] / summary["seconds"]
            counts = f"rows={summary['rows']} created={summary['created']}"
            print(f"{kind:9} {counts} s={summary['seconds']:.1f} rows/s={rate:.0f}")


if __name__ == "__main__":
    main()
