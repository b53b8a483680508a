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
from tests.mailbox import csrf_of
from tests.mfa.conftest import TotpClock, answer, enrol, recover, sign_in, totp_clock
from tests.statements import sent_statements

__all__ = ["totp_clock"]


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


async def test_an_invented_method_is_counted_as_other_not_as_a_label_of_its_own(client: httpx.AsyncClient) -> None:
    for method in ("BREW", "X-INVENTED-1", "X-INVENTED-2"):
        await client.request(method, "/api/v1/me")
    methods = {sample.labels["method"] for sample in (await _samples(client))["tenantry_http_requests"]}
    assert "_OTHER" in methods
    assert not methods & {"BREW", "X-INVENTED-1", "X-INVENTED-2"}


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


def _sign_ins(samples: dict[str, list[Sample]]) -> dict[tuple[str, str], float]:
    return {(s.labels["method"], s.labels["result"]): s.value for s in samples["tenantry_sign_ins"] if s.value > 0}


async def _use_magic_link(
    client: httpx.AsyncClient, tenant: Tenant, user_id: str
) -> tuple[dict[str, str], httpx.Response]:
    """The form the link's page posts, and the answer to it."""
    made = await client.post(tenant.path(f"/users/{user_id}/magic-link"), headers=tenant.auth)
    assert made.status_code == 201, made.text
    token = made.json()["url"].split("token=")[1]
    form = {"token": token, "csrf_token": csrf_of((await client.get(f"/ui/magic?token={token}")).text)}
    return form, await client.post("/ui/magic", data=form)


async def test_sign_ins_by_magic_link_and_each_second_step_are_counted_by_method(
    client: httpx.AsyncClient, tenant: Tenant, totp_clock: TotpClock
) -> None:
    member = await tenant.add_user()
    before = _sign_ins(await _samples(client))
    form, used = await _use_magic_link(client, tenant, member.id)
    assert used.status_code == 303, used.text
    spent = await client.post("/ui/magic", data=form)
    assert spent.status_code == 410
    app = await enrol(client, member.token, totp_clock)
    mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
    assert (await answer(client, mfa_token, "000000")).status_code == 400
    assert (await answer(client, mfa_token, app.code_at(totp_clock.now))).status_code == 200
    mfa_token = (await sign_in(client, member.email)).json()["mfa_token"]
    assert (await recover(client, mfa_token, app.recovery_codes[0])).status_code == 200
    _, to_second_step = await _use_magic_link(client, tenant, member.id)
    assert to_second_step.headers["location"].startswith("/ui/mfa")

    after = _sign_ins(await _samples(client))
    counted = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
    assert counted == {
        ("magic_link", "succeeded"): 1,
        ("magic_link", "failed"): 1,
        ("magic_link", "mfa_required"): 1,
        ("password", "mfa_required"): 2,
        ("mfa_otp", "failed"): 1,
        ("mfa_otp", "succeeded"): 1,
        ("mfa_recovery_code", "succeeded"): 1,
    }


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


async def test_scrapes_within_the_window_count_the_outbox_once(runtime: Runtime, tenant: Tenant) -> None:
    reusing = Runtime(
        **{**runtime.__dict__, "settings": runtime.settings.model_copy(update={"metrics_outbox_seconds": 60})}
    )
    transport = httpx.ASGITransport(app=create_app(runtime=reusing))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with sent_statements(runtime.database) as sent:
            first = await _samples(client)
            await tenant.add_user(password=None)  # another email waits: the next scrape within the window misses it
            second = await _samples(client)
    counts = [statement for statement in sent if "outbox_messages" in statement and "count(" in statement.lower()]
    assert len(counts) == 1, counts
    assert first["tenantry_outbox_depth"] == second["tenantry_outbox_depth"]
