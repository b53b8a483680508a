"""The Dockerfile and compose.yaml, checked as far as a machine without a Docker engine allows.

compose.yaml is validated against the Compose Specification's JSON schema (the copy check-jsonschema
vendors); the Dockerfile is parsed (dockerfile-parse) for its stages, its user and its healthcheck.
"""

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tenantry.settings import Settings


@pytest.fixture(scope="module")
def compose(project_root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project_root / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def dockerfile(project_root: Path) -> DockerfileParser:
    return DockerfileParser(path=str(project_root / "Dockerfile"))


def test_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(vendored.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(compose)] == []


def test_compose_runs_tenantry_a_worker_postgresql_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"tenantry", "worker", "postgres", "redis", "migrate"} <= services.keys()
    api, worker = services["tenantry"], services["worker"]
    assert api["command"][:2] == ["tenantry", "serve"]
    assert worker["command"] == ["tenantry", "worker"]
    assert services["migrate"]["command"] == ["tenantry", "db", "upgrade"]
    for service in (api, worker):
        environment = service["environment"]
        assert environment["TENANTRY_DATABASE_URL"].startswith("postgresql://tenantry:")
        assert "@postgres:5432/" in environment["TENANTRY_DATABASE_URL"]
        assert environment["TENANTRY_REDIS_URL"] == "redis://redis:6379/0"
        assert environment["TENANTRY_OUTBOX_IN_PROCESS"] == "false"  # the worker delivers, once
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "FORWARDED_ALLOW_IPS" in api["environment"]
    # The worker delivers the webhooks, so it serves the /metrics that counts them, reachable in the network.
    assert worker["environment"]["TENANTRY_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert worker["expose"] == [worker["environment"]["TENANTRY_WORKER_METRICS_PORT"]]


def test_the_workers_healthcheck_asks_its_own_healthz_on_its_metrics_port(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    healthcheck = worker["healthcheck"]
    assert not healthcheck.get("disable", False)
    port = worker["environment"]["TENANTRY_WORKER_METRICS_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(healthcheck["test"])
    assert healthcheck["test"][0] == "CMD"


def test_every_tenantry_setting_compose_sets_exists(compose: dict[str, Any]) -> None:
    named = {
        name.removeprefix("TENANTRY_").lower()
        for service in compose["services"].values()
        for name in service.get("environment", {})
        if name.startswith("TENANTRY_")
    }
    assert named
    assert sorted(named - Settings.model_fields.keys()) == []


def _stages(dockerfile: DockerfileParser) -> list[list[dict[str, Any]]]:
    stages: list[list[dict[str, Any]]] = []
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:  # comments and ARGs before the first FROM belong to no stage
            stages[-1].append(instruction)
    return stages


def test_dockerfile_builds_in_one_stage_and_runs_in_another_as_a_user_that_is_not_root(
    dockerfile: DockerfileParser,
) -> None:
    build, runtime = _stages(dockerfile)
    assert build[0]["value"].endswith(" AS build")
    assert any("python -m build --wheel" in step["value"] for step in build if step["instruction"] == "RUN")
    assert any("from=build" in step["value"] for step in runtime if step["instruction"] in {"RUN", "COPY"})
    users = [step["value"] for step in runtime if step["instruction"] == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert [step for step in build if step["instruction"] == "USER"] == []  # nothing odd in the build stage


def test_dockerfile_checks_health_on_readyz_and_serves_on_all_interfaces(dockerfile: DockerfileParser) -> None:
    runtime = _stages(dockerfile)[-1]
    (healthcheck,) = [step["value"] for step in runtime if step["instruction"] == "HEALTHCHECK"]
    assert re.search(r"http://127\.0\.0\.1:8000/readyz", healthcheck)
    assert "--interval=" in healthcheck
    (command,) = [json.loads(step["value"]) for step in runtime if step["instruction"] == "CMD"]
    assert command == ["tenantry", "serve", "--host", "0.0.0.0", "--port", "8000"]
