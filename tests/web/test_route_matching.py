"""A route turns a path away before its regular expression runs only when that expression would refuse it too
(``web.routing.UnitOfWorkRoute.matches``), and every surface's routes stand in one flat list (``include_routes``),
not in FastAPI's included routers, which each request walked and matched twice."""

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.convertors import PathConvertor, StringConvertor
from starlette.routing import BaseRoute, Mount

from tenantry.runtime import Runtime
from tenantry.web.routing import UnitOfWorkRoute, path_shape


def _all_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes, and those of every mounted application (building the deferred ones)."""
    for route in routes:
        yield route
        if isinstance(route, Mount):
            yield from _all_routes(route.routes)


def _filled(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_every_surface_stands_in_one_flat_list_of_routes(app: FastAPI) -> None:
    routes = list(_all_routes(app.router.routes))
    lazy = [route for route in routes if type(route).__name__ == "_IncludedRouter"]
    assert lazy == []
    served = {route.path for route in routes if isinstance(route, APIRoute)}
    for path in ("/api/v1/orgs/{org}/users/{user}", "/oidc/token", "/ui/sign-in", "/console/{org}/members"):
        assert path in served
    assert sum(isinstance(route, UnitOfWorkRoute) for route in routes) > 200


def test_the_shape_is_the_text_before_the_first_parameter_and_the_slashes() -> None:
    assert path_shape("/api/v1/orgs/{org}/users/{user}", {"org": StringConvertor(), "user": StringConvertor()}) == (
        "/api/v1/orgs/",
        6,
    )
    assert path_shape("/oidc/token", {}) == ("/oidc/token", 2)
    assert path_shape("/files/{rest:path}", {"rest": PathConvertor()}) == ("/files/", None)


@pytest.mark.parametrize("root_path", ["", "/behind/a/proxy"])
def test_a_route_matches_every_path_as_starlette_does(app: FastAPI, root_path: str) -> None:
    routes = [route for route in _all_routes(app.router.routes) if isinstance(route, UnitOfWorkRoute)]
    templates = sorted({route.path for route in routes})
    paths = {"", "/", "/api", "/api/v1/orgs/x1/users/x1/", "/api/v1/orgs//users", "/API/v1/me", "/oidc/token/x"}
    for template in templates:
        filled = _filled(template)
        paths |= {filled, filled + "/", filled + "/more", filled.rsplit("/", 1)[0], filled.replace("x1", "a/b", 1)}
    checked = 0
    for route in routes:
        for path in paths:
            for method in ("GET", "POST"):
                scope = {"type": "http", "method": method, "path": root_path + path, "root_path": root_path}
                assert route.matches(dict(scope)) == APIRoute.matches(route, dict(scope)), (route.path, path)
                checked += 1
    assert checked > 100_000


async def test_a_route_included_under_a_prefix_by_fastapi_itself_still_matches(runtime: Runtime) -> None:
    """FastAPI's include_router matches a route against its path with the router's prefix; the check compares the
    route's own template, so it must stand aside there (a prefixed inclusion answered 404)."""
    router = APIRouter(prefix="/orgs", route_class=UnitOfWorkRoute)

    @router.get("/{org}", name="included_org")
    async def included_org(org: str) -> dict[str, str]:
        return {"org": org}

    app = FastAPI()
    app.state.runtime = runtime
    app.include_router(router, prefix="/api/v9")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        answer = await client.get("/api/v9/orgs/acme")
        assert (answer.status_code, answer.json()) == (200, {"org": "acme"})
        assert (await client.get("/orgs/acme")).status_code == 404
        assert (await client.post("/api/v9/orgs/acme")).status_code == 405
    assert app.url_path_for("included_org", org="acme") == "/api/v9/orgs/acme"
