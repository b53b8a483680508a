"""Schemathesis pieces shared by the conformance tests: the checks a documented answer must pass, and one
operation's generated cases run against a live server."""

from typing import Any

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

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        nonlocal cases
        case = data.draw(operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)
        cases += 1

    check()
    return cases
