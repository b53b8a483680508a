"""SCIM and the dialects are built on their first request, not with the app (tenantry.web.deferred)."""

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tenantry.app import create_app
from tenantry.auth.policy import route_policies
from tenantry.runtime import Runtime
from tenantry.web.deferred import DeferredMount


def _deferred(app: FastAPI) -> dict[str, DeferredMount]:
    return {route.path: route for route in app.routes if isinstance(route, DeferredMount)}


async def _counted(client: httpx.AsyncClient, route: str) -> float:
    text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tenantry_http_requests"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["route"] == route
    )


async def test_a_mounted_surface_is_built_by_its_first_request_and_counted_by_its_template(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    mounts = _deferred(app)
    assert {"/scim/v2", "/compat/telm"} <= set(mounts)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/healthz")).status_code == 200
        template = "/scim/v2/{org}/ServiceProviderConfig"
        before = await _counted(client, template)
        assert not any(mount.built for mount in mounts.values())

        answer = await client.get("/scim/v2/acme/ServiceProviderConfig")
        assert answer.status_code == 401  # SCIM's own error body: the sub-application answered
        assert answer.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert [path for path, mount in mounts.items() if mount.built] == ["/scim/v2"]
        assert await _counted(client, template) == before + 1


def test_walking_the_routes_builds_every_surface(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    paths = {policy.path for policy in route_policies(app)}
    assert any(path.startswith("/scim/v2/") for path in paths)
    assert any(path.startswith("/compat/telm/") for path in paths)
    assert all(mount.built for mount in _deferred(app).values())
