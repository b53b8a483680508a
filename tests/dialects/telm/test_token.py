"""telm's token endpoint: password and refresh grants, fields in the query or a form, either spelling."""

import httpx
import pytest

from tests.auth.conftest import MakeInstance
from tests.dialects.telm.conftest import TOKEN, Telm, authentication
from tests.factories import PASSWORD, Tenant


def _shape(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires", "token_type"}
    assert (body["expires"], body["token_type"]) == (900, "Bearer")
    assert response.headers["cache-control"] == "no-store"
    return body


async def test_password_grant_as_form_fields(telm: Telm) -> None:
    tokens = _shape(await telm.sign_in(telm.tenant.owner.email, PASSWORD))
    listed = await telm.client.get(telm.path("/users"), headers=authentication(str(tokens["access_token"])))
    assert listed.status_code == 200


@pytest.mark.parametrize("grant_field", ["grant_type", "grantType"])
async def test_password_grant_as_query_parameters_in_either_spelling(telm: Telm, grant_field: str) -> None:
    params = {grant_field: "password", "username": telm.tenant.owner.email, "password": PASSWORD}
    _shape(await telm.client.post(TOKEN, params=params))


async def test_password_grant_as_json(telm: Telm) -> None:
    body = {"grantType": "password", "username": telm.tenant.owner.email, "password": PASSWORD}
    _shape(await telm.client.post(TOKEN, json=body))


@pytest.mark.parametrize(
    ("grant_field", "token_field"), [("grant_type", "refresh_token"), ("grantType", "refreshToken")]
)
async def test_refresh_grant_rotates_the_refresh_token(telm: Telm, grant_field: str, token_field: str) -> None:
    first = _shape(await telm.sign_in(telm.tenant.owner.email, PASSWORD))
    fields = {grant_field: "refresh_token", token_field: str(first["refresh_token"])}
    second = _shape(await telm.client.post(TOKEN, data=fields))
    assert second["refresh_token"] != first["refresh_token"]
    reused = await telm.client.post(TOKEN, data=fields)
    assert reused.status_code == 401
    assert set(reused.json()) == {"message"}


async def test_a_wrong_password_or_unknown_user_is_401_alike(telm: Telm) -> None:
    wrong = await telm.sign_in(telm.tenant.owner.email, "wrong password")
    unknown = await telm.sign_in("nobody@example.com", "wrong password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"message": "invalid username or password"}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"username": "a@example.com", "password": "x"}, "grant_type"),
        ({"grant_type": "client_credentials"}, "grant_type"),
        ({"grant_type": "password", "username": "a@example.com"}, "password"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
    ],
)
async def test_malformed_requests_are_422(telm: Telm, fields: dict[str, str], named: str) -> None:
    response = await telm.client.post(TOKEN, data=fields)
    assert response.status_code == 422
    assert named in response.json()["message"]


async def test_tenant_limits_sign_in_to_its_members(telm: Telm, other_tenant: Tenant) -> None:
    owner = telm.tenant.owner.email
    _shape(await telm.sign_in(owner, PASSWORD, tenant=telm.tenant.slug))
    for tenant in (other_tenant.slug, "nowhere"):
        refused = await telm.sign_in(owner, PASSWORD, tenant=tenant)
        assert refused.status_code == 401
        assert refused.json() == {"message": "the user does not belong to this tenant"}


async def test_an_invited_user_cannot_sign_in(telm: Telm) -> None:
    await telm.create_user("new@example.com")
    assert (await telm.sign_in("new@example.com", "")).status_code == 422
    assert (await telm.sign_in("new@example.com", PASSWORD)).status_code == 401


async def test_the_native_brute_force_defence_applies(instance: MakeInstance, tenant: Tenant) -> None:
    app = await instance(login_max_failures=3)
    client = await app.client()
    fields = {"grant_type": "password", "username": tenant.owner.email}
    wrong = [await client.post(TOKEN, data={**fields, "password": "wrong password"}) for _ in range(3)]
    locked = await client.post(TOKEN, data={**fields, "password": PASSWORD})
    assert locked.status_code == 401
    assert locked.content == wrong[0].content  # the same answer as a wrong password
    native = await client.post("/api/v1/auth/token", data={**fields, "password": PASSWORD})
    assert native.status_code == 400  # the lockout is the account's, whichever endpoint is used


async def test_the_token_endpoint_is_rate_limited(instance: MakeInstance, tenant: Tenant) -> None:
    app = await instance(auth_rate_limit="2/minute")
    client = await app.client()
    fields = {"grant_type": "password", "username": tenant.owner.email, "password": PASSWORD}
    answers = [await client.post(TOKEN, data=fields) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert "retry-after" in answers[2].headers
    assert set(answers[2].json()) == {"message"}
