"""GET /metrics: Prometheus text that prometheus_client parses, labelled by route template."""

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr

from tenantry.app import create_app
from tenantry.runtime import Runtime
from tests.factories import Tenant, bearer


async def _samples(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> dict[str, list[Sample]]:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


async def test_requests_are_counted_by_route_template_never_by_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    await client.get(tenant.path(f"/users/{member.id}"), headers=tenant.auth)
    await client.get(f"/api/v1/no/such/{member.id}")
    samples = await _samples(client)
    requests = samples["tenantry_http_requests"]
    routes = {sample.labels["route"] for sample in requests}
    assert "/api/v1/orgs/{org}/users/{user}" in routes
    assert "unmatched" in routes
    assert not any(member.id in route or tenant.slug in route for route in routes)
    counted = [
        s for s in requests if s.labels["route"] == "/api/v1/orgs/{org}/users/{user}" and s.name.endswith("_total")
    ]
    assert {(s.labels["method"], s.labels["status"]) for s in counted} >= {("GET", "200")}
    durations = samples["tenantry_http_request_duration_seconds"]
    assert any(s.labels.get("route") == "/api/v1/orgs/{org}/users/{user}" for s in durations)


async def test_sign_ins_outbox_pool_and_build_are_reported(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await tenant.add_user(password=None)  # an invitation: one email waits in the outbox
    bad = {"grant_type": "password", "username": tenant.owner.email, "password": "wrong"}
    await client.post("/api/v1/auth/token", data=bad)
    samples = await _samples(client)
    results = {(s.labels["method"], s.labels["result"]) for s in samples["tenantry_sign_ins"] if s.value > 0}
    assert {("password", "succeeded"), ("password", "failed")} <= results
    [depth] = [s for s in samples["tenantry_outbox_depth"] if s.labels["kind"] == "email"]
    assert depth.value >= 1
    [age] = [s for s in samples["tenantry_outbox_oldest_age_seconds"] if s.labels["kind"] == "email"]
    assert age.value >= 0
    assert "tenantry_db_pool_connections_in_use" in samples
    [build] = samples["tenantry_build_info"]
    assert build.value == 1
    assert build.labels["version"]


@pytest.fixture
def guarded_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please")})
    return create_app(runtime=Runtime(**{**runtime.__dict__, "settings": settings}))


async def test_metrics_token_is_required_when_set(guarded_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=guarded_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=bearer("wrong"))).status_code == 401
        assert "tenantry_build_info" in await _samples(client, bearer("scrape-me-please"))
