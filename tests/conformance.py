"""Schemathesis pieces shared by the conformance tests: the checks a documented answer must pass, one
operation's generated cases run against a live server, the methods each documented path must answer, and a
report that lets every operation fail on its own.

The generated cases are the same on every run (``derandomize``), so CI is reproducible. Exploratory fuzzing
(random cases, ten times as many) runs with ``TENANTRY_FUZZ_EXPLORE=1``; ``make test`` never sets it.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

DOCUMENTED = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
"""A documented status, content type, headers and body, and never a 5xx."""

EXPLORE = bool(os.environ.get("TENANTRY_FUZZ_EXPLORE"))
METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH"})


def fuzz(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    mode: GenerationMode,
    path_parameters: dict[str, str] | None,
    *,
    checks: list[Any],
    examples: int,
) -> int:
    """Run up to ``examples`` cases of ``operation`` generated in ``mode`` through ``checks``; how many ran."""
    cases = 0

    @settings(
        max_examples=examples * 10 if EXPLORE else examples,
        derandomize=not EXPLORE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        nonlocal cases
        case = data.draw(operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)
        cases += 1

    check()
    return cases


class Report:
    """Failures per operation: each is recorded and the run goes on, so one failure hides no other."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    @contextmanager
    def operation(self, label: str) -> Iterator[None]:
        try:
            yield
        except Exception as error:
            self.failures.append(f"{label}: {type(error).__name__}: {str(error)[:2000]}")

    def assert_clean(self) -> None:
        assert not self.failures, f"{len(self.failures)} operation(s) failed:\n\n" + "\n\n".join(self.failures)


def _allow(answer: httpx.Response) -> set[str]:
    return {method.strip().upper() for method in answer.headers.get("allow", "").split(",") if method.strip()}


def _served_at(paths: dict[str, Any], url: str) -> set[str]:
    """The documented methods of every path template the concrete ``url`` matches (``/users/export`` is also
    ``/users/{user}``)."""
    served: set[str] = set()
    for template, operations in paths.items():
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), url):
            served |= {method.upper() for method in operations} & METHODS
    return served


def check_methods(paths: dict[str, Any], base_url: str, headers: dict[str, str], report: Report) -> int:
    """Every documented path answers a method it does not document with 405, and OPTIONS with 204, both with
    ``Allow`` listing exactly its documented methods (HEAD and OPTIONS aside); how many requests were made."""
    requests = 0
    with httpx.Client(base_url=base_url, headers=headers) as client:
        for path in paths:
            url = path.replace("{", "").replace("}", "")  # any value: routing answers before the handler
            documented = _served_at(paths, url)
            with report.operation(f"methods of {path}"):
                for method in sorted(METHODS - documented | {"OPTIONS"}):
                    answer = client.request(method, url)
                    requests += 1
                    assert answer.status_code == (204 if method == "OPTIONS" else 405), (method, answer.text)
                    assert _allow(answer) - {"HEAD", "OPTIONS"} == documented, (method, answer.headers.get("allow"))
    return requests
