"""Drive a server with wrk, pinned to the load core, and read back rate and latency percentiles."""

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.servers import LOAD_CORE

SCRIPT = Path(__file__).with_name("request.lua")
REFRESH_SCRIPT = Path(__file__).with_name("refresh.lua")
WARM_UP_SECONDS = 2
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    name: str
    method: str
    paths: list[str]
    connections: int
    authorization: str | None = None
    content_type: str | None = None
    body: str | None = None
    """Body template; ``{n}`` becomes a value unique per request."""
    tokens: tuple[str, ...] = ()
    """Refresh tokens, one per connection: the load runs ``refresh.lua`` (each answer brings the next)."""


@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(name: str, output: str) -> Result:
    percentile = {p: _milliseconds(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE)}
    total = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if total is None or rate is None or "50" not in percentile or "99" not in percentile:
        raise ValueError(f"could not read wrk's output:\n{output}")
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    return Result(name, float(rate.group(1)), percentile["50"], percentile["99"], int(total.group(1)), errors)


def run(base_url: str, load: Load, seconds: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as paths:
        paths.write("\n".join(load.paths) + "\n")
    env = {**os.environ, "BENCH_PATHS": paths.name, "BENCH_METHOD": load.method}
    script = SCRIPT
    if load.tokens:
        with tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False) as tokens:
            tokens.write("\n".join(load.tokens) + "\n")
        env["BENCH_TOKENS"], env["BENCH_PATH"], script = tokens.name, load.paths[0], REFRESH_SCRIPT
    for key, value in (
        ("BENCH_AUTH", load.authorization),
        ("BENCH_CONTENT_TYPE", load.content_type),
        ("BENCH_BODY", load.body),
    ):
        if value is not None:
            env[key] = value
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{load.connections}", "--latency", "-s", str(script)]
    if not load.tokens:
        # Unmeasured first: a server's first requests open its pool's connections and prepare its statements
        # (the peers' too). A refresh chain is left alone: a second pass would replay its spent tokens.
        subprocess.run([*command, f"-d{WARM_UP_SECONDS}s", base_url], env=env, capture_output=True, check=True)
    completed = subprocess.run(
        [*command, f"-d{seconds}s", base_url], env=env, capture_output=True, text=True, check=True
    )
    os.unlink(paths.name)
    if load.tokens:
        os.unlink(env["BENCH_TOKENS"])
    return parse(load.name, completed.stdout)
