"""Second factors in the OpenID provider's authorization flow (in process): the second step on its page, then
``amr``/``acr`` in the ID and access tokens (kept by refresh); ``acr_values`` asking for two factors."""

from collections.abc import Awaitable, Callable

import httpx
import jwt
from httpx import Response

from tests.factories import Tenant
from tests.mailbox import csrf_of
from tests.mfa.conftest import TotpClock, enrol, totp_clock
from tests.oidc.flow import authorize_url, query_of, redeem, register, sign_in_at

__all__ = ["totp_clock"]

TOKEN = "/oidc/token"
TWO_FACTORS = "urn:tenantry:acr:2fa"


def _claims(token: str) -> dict[str, object]:
    decoded: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def test_an_enrolled_user_gives_the_code_on_the_way_and_the_tokens_say_so(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, totp_clock: TotpClock
) -> None:
    app = await enrol(client, tenant.owner.token, totp_clock)
    registered = await register(client, root_token, grant_types=["authorization_code", "refresh_token"])
    url = authorize_url(registered["client_id"], scope="openid email offline_access")
    to_sign_in = await client.get(url)
    signed_in = await sign_in_at(client, to_sign_in.headers["location"], tenant.owner.email)
    second_step = signed_in.headers["location"]
    assert second_step.startswith("/ui/mfa?continue=%2Foidc%2Fauthorize")
    page = await client.get(second_step)
    fields = {"code": app.code_at(totp_clock.now), "method": "otp", "csrf_token": csrf_of(page.text)}
    fields["continue"] = query_of(second_step)["continue"]
    verified = await client.post("/ui/mfa", data=fields)
    assert verified.status_code == 303, verified.text
    back = await client.get(verified.headers["location"])
    code = query_of(back.headers["location"])["code"]
    tokens = await redeem(client, registered, code)
    id_claims, access = _claims(tokens["id_token"]), _claims(tokens["access_token"])
    assert (id_claims["amr"], id_claims["acr"]) == (["pwd", "otp", "mfa"], TWO_FACTORS)
    assert (access["amr"], access["acr"]) == (["pwd", "otp", "mfa"], TWO_FACTORS)
    refreshed = await client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert _claims(refreshed.json()["id_token"])["amr"] == ["pwd", "otp", "mfa"]


async def test_acr_values_asking_for_two_factors_forces_the_second_step(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, totp_clock: TotpClock
) -> None:
    registered = await register(client, root_token)
    plain = await client.get(authorize_url(registered["client_id"]))
    signed_in = await sign_in_at(client, plain.headers["location"], tenant.owner.email)
    one_factor = await client.get(signed_in.headers["location"])
    code = query_of(one_factor.headers["location"])["code"]
    tokens = await redeem(client, registered, code)
    assert (_claims(tokens["id_token"])["amr"], _claims(tokens["id_token"])["acr"]) == (["pwd"], "urn:tenantry:acr:1fa")

    silent = await client.get(authorize_url(registered["client_id"], acr_values=TWO_FACTORS, prompt="none"))
    assert query_of(silent.headers["location"])["error"] == "interaction_required"
    # No second factor yet: the step up is enrolling one.
    asked = await client.get(authorize_url(registered["client_id"], acr_values=TWO_FACTORS))
    assert asked.headers["location"].startswith("/ui/mfa/enrol?continue=")

    # Enrolled since the session began (in another session): the password's session ended, whatever acr_values
    # says; the browser signs in again, with both factors.
    await enrol(client, tenant.owner.token, totp_clock)
    stepped = await client.get(authorize_url(registered["client_id"]))
    assert stepped.headers["location"].startswith("/ui/sign-in?continue=")


async def _one_factor_session(
    client: httpx.AsyncClient, root_token: str, email: str
) -> Callable[[], Awaitable[Response]]:
    """An application's session opened with the password alone; the answer refreshes it."""
    registered = await register(client, root_token, grant_types=["authorization_code", "refresh_token"])
    to_sign_in = await client.get(authorize_url(registered["client_id"], scope="openid offline_access"))
    signed_in = await sign_in_at(client, to_sign_in.headers["location"], email)
    back = await client.get(signed_in.headers["location"])
    tokens = await redeem(client, registered, query_of(back.headers["location"])["code"])
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    return lambda: client.post(TOKEN, data=refresh, auth=(registered["client_id"], registered["client_secret"]))


async def test_requiring_mfa_stops_refresh_tokens_of_one_factor_sign_ins(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    refresh = await _one_factor_session(client, root_token, tenant.owner.email)
    required = await client.patch(tenant.path(), json={"mfa_required": True}, headers=tenant.auth)
    assert required.status_code == 200, required.text
    refreshed = await refresh()
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"
    assert "second factor is now required" in refreshed.json()["error_description"]


async def test_enrolling_a_factor_stops_refresh_tokens_of_one_factor_sign_ins(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant, totp_clock: TotpClock
) -> None:
    """An application's session opened with the password alone ends once the owner enrols a factor (as the
    authorization endpoint then sends its browser session to the second step)."""
    refresh = await _one_factor_session(client, root_token, tenant.owner.email)
    await enrol(client, tenant.owner.token, totp_clock)
    refreshed = await refresh()
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"
