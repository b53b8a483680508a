"""Form-encoded bodies and query strings are UTF-8, raw or percent-escaped: a name typed unescaped is read as
typed (it was read as Latin-1, so ``josé`` became ``josÃ©`` and could not sign in), and bytes that are not UTF-8
answer 400/422 in the surface's own shape naming the body (or query) and the position, a page on the hosted
pages and the console."""

import logging

import httpx
import pytest

from tests.console.test_pages import sign_in
from tests.factories import PASSWORD, Tenant
from tests.mailbox import csrf_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NATIVE_TOKEN = "/api/v1/auth/token"
TELM_TOKEN = "/compat/telm/api/auth/auth/token"


@pytest.mark.parametrize("endpoint", [NATIVE_TOKEN, TELM_TOKEN], ids=["native", "telm"])
async def test_an_email_sent_unescaped_in_a_form_signs_in(
    client: httpx.AsyncClient, tenant: Tenant, endpoint: str
) -> None:
    await tenant.add_user("josé@example.com")
    body = f"grant_type=password&username=josé@example.com&password={PASSWORD}".encode()
    answer = await client.post(endpoint, content=body, headers=FORM)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("body", "position"),
    [(b"grant_type=password&username=\xff&password=x", 29), (b"grant_type=password&username=%FF&password=x", 29)],
    ids=["raw", "percent-escaped"],
)
async def test_a_form_that_is_not_utf8_is_refused_naming_the_body_and_the_position(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, body: bytes, position: int
) -> None:
    with caplog.at_level(logging.ERROR):
        for endpoint in (NATIVE_TOKEN, "/oidc/token"):  # OAuth 2.0's own error
            answer = await client.post(endpoint, content=body, headers=FORM)
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"] == "invalid_request"
            assert "the request body is not UTF-8" in answer.json()["error_description"]
            assert f"position {position}" in answer.json()["error_description"]
        telm = await client.post(TELM_TOKEN, content=body, headers=FORM)
        assert telm.status_code == 422, telm.text
        assert telm.json() == {"message": telm.json()["message"]}
        assert f"position {position}" in telm.json()["message"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_hosted_pages_and_the_console_answer_a_form_that_is_not_utf8_with_a_page(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sign_in(client, tenant.owner.email)
    csrf = csrf_of((await client.get("/ui/account")).text)
    for action in ("/ui/sign-in", "/ui/account/profile", f"/console/{tenant.slug}/members"):
        body = f"csrf_token={csrf}&first_name=".encode() + b"\xff"
        answer = await client.post(action, content=body, headers=FORM)
        assert answer.status_code == 400, (action, answer.text)
        assert answer.headers["content-type"].startswith("text/html"), action
        assert "could not be read" in answer.text, action


async def test_a_query_string_that_is_not_utf8_is_refused_naming_the_query_and_the_position(
    client: httpx.AsyncClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    """telm takes a new user's fields in the query: %FF was stored as U+FFFD."""
    telm_users = f"/compat/telm/api/auth/auth/{tenant.slug}/users"
    with caplog.at_level(logging.ERROR):
        created = await client.post(f"{telm_users}?email=ada@example.com&first_name=%FF&role=user", headers=tenant.auth)
        assert created.status_code == 422, created.text
        assert created.json() == {
            "message": "the request query is not UTF-8: the percent-escaped bytes at position 33 are not"
        }
        listed = await client.get(tenant.path("/users?q=%C3"), headers=tenant.auth)
        assert listed.status_code == 422, listed.text
        assert listed.json()["errors"][0]["field"] == "query"
        scim = await client.get(f"/scim/v2/{tenant.slug}/Users?filter=%FF", headers=tenant.auth)
        assert scim.status_code == 400, scim.text
        assert scim.json()["scimType"] == "invalidSyntax"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert (await client.get(f"{telm_users}/ada@example.com", headers=tenant.auth)).status_code == 404
    assert (await client.get(tenant.path("/users?q=%C3%A9"), headers=tenant.auth)).status_code == 200
