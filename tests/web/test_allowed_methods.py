"""A wrong method answers 405 with ``Allow`` listing every method the path serves, on every surface and in
its error shape; OPTIONS answers 204 with the same list."""

import httpx
import pytest

ORG = "0123456789abcdef01234567"
# (a path, a method it does not serve, every method it serves, the surface's error media type)
PATHS = [
    ("/api/v1/orgs/acme/users", "DELETE", {"GET", "POST"}, "application/problem+json"),
    ("/api/v1/me", "PUT", {"GET"}, "application/problem+json"),
    (f"/scim/v2/{ORG}/Users", "DELETE", {"GET", "POST"}, "application/scim+json"),
    (f"/compat/saleschat/v1/org/{ORG}/user", "DELETE", {"GET", "POST"}, "application/json"),
    (f"/compat/akinon/organizations/{ORG}/users", "PATCH", {"GET", "POST"}, "application/json"),
    (f"/compat/eva/eva-user/org/{ORG}/users", "DELETE", {"GET", "POST"}, "application/json"),
    (f"/compat/telm/api/auth/auth/{ORG}/users", "DELETE", {"GET", "POST"}, "application/json"),
    ("/ui/sign-in", "DELETE", {"GET", "POST"}, "text/html"),  # a page, in the browser's language
]


def _allow(answer: httpx.Response) -> set[str]:
    return {method.strip() for method in answer.headers["allow"].split(",")}


@pytest.mark.parametrize(("path", "wrong", "served", "media_type"), PATHS, ids=[p[0].split("/")[1] for p in PATHS])
async def test_a_wrong_method_is_405_listing_every_method_of_the_path(
    client: httpx.AsyncClient, path: str, wrong: str, served: set[str], media_type: str
) -> None:
    answer = await client.request(wrong, path)
    assert answer.status_code == 405, answer.text
    assert _allow(answer) - {"HEAD"} == served | {"OPTIONS"}
    assert answer.headers["content-type"].startswith(media_type)


@pytest.mark.parametrize(("path", "wrong", "served", "media_type"), PATHS, ids=[p[0].split("/")[1] for p in PATHS])
async def test_options_answers_the_methods_of_the_path(
    client: httpx.AsyncClient, path: str, wrong: str, served: set[str], media_type: str
) -> None:
    answer = await client.options(path)
    assert answer.status_code == 204
    assert answer.content == b""
    assert _allow(answer) - {"HEAD"} == served | {"OPTIONS"}


async def test_an_unknown_path_is_still_404(client: httpx.AsyncClient) -> None:
    assert (await client.options("/api/v1/nowhere")).status_code == 404
    assert (await client.delete("/api/v1/nowhere")).status_code == 404


async def test_an_endpoints_own_options_answer_lists_the_methods_too(client: httpx.AsyncClient) -> None:
    """The OpenID provider answers OPTIONS itself (CORS preflights): its answer names the methods as well."""
    for path, served in (("/oidc/token", {"POST"}), ("/oidc/userinfo", {"GET", "POST"})):
        answer = await client.options(path)
        assert answer.status_code == 204, path
        assert _allow(answer) == served | {"OPTIONS"}, path


@pytest.mark.parametrize(
    "path", ["/ui/static/tenantry.css", "/console/static/htmx/htmx.min.js", "/docs/assets/swagger-ui.css"]
)
async def test_static_assets_list_get_and_head(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200
    answer = await client.post(path)
    assert answer.status_code == 405
    assert _allow(answer) == {"GET", "HEAD", "OPTIONS"}
    assert _allow(await client.options(path)) == {"GET", "HEAD", "OPTIONS"}
