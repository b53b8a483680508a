"""What an organization learns of an account's other organizations: nothing, through any credential.

An organization that impersonates a shared member, or whose application holds a token for them, reads none
of the users of the member's other organizations (akinon's search of addable users looked through every
organization of the account acting). An organization that only invited an account hears none of its
sign-ins until the invitation is accepted.
"""

import httpx

from tenantry.runtime import Runtime
from tests.factories import PASSWORD, Tenant, bearer, prove_credentials, token_for
from tests.mailbox import csrf_of
from tests.trust.conftest import SECRET_VALUES, Victim
from tests.trust.test_bound_credentials import _org_app_token

SIGN_INS = {"user.signed_in", "user.sign_in_failed"}


async def test_a_credential_bound_to_one_org_reads_no_user_of_the_accounts_other_orgs(
    client: httpx.AsyncClient, runtime: Runtime, root_token: str, alice: Victim, tenant: Tenant, other_tenant: Tenant
) -> None:
    await prove_credentials(runtime, alice.id)
    colleague = await tenant.add_user("zebulon@acme.example", first_name="Zebulon")
    await client.put(tenant.path(f"/users/{alice.id}/roles"), json={"roles": ["admin"]}, headers=tenant.auth)
    attach = {"email": alice.email, "roles": ["supervisor"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    impersonated = await client.post(other_tenant.path(f"/users/{alice.id}/impersonate"), headers=other_tenant.auth)
    assert impersonated.status_code == 200, impersonated.text
    credentials = {
        "impersonation": bearer(impersonated.json()["access_token"]),
        "application's token": bearer(await _org_app_token(client, other_tenant, alice.email)),
    }
    searches = [
        f"/compat/akinon/organizations/{other_tenant.id}/users/search/availables",
        f"/compat/akinon/organizations/{other_tenant.id}/users/search/availables?text=zebulon",
        other_tenant.path("/users?q=zebulon"),
        f"/compat/eva/eva-user/org/{other_tenant.id}/users/quicksearch?name=Zebulon",
    ]
    for name, headers in credentials.items():
        for path in searches:
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 200, (name, path, answer.text)
            assert colleague.email not in answer.text, (name, path)
            assert not any(value in answer.text for value in ["Zebulon", *SECRET_VALUES]), (name, path)
    # The user themselves, with their own token, still finds whom they may add from where they read users.
    own = await client.get(searches[1], headers=alice.member.auth)
    assert colleague.email in own.text


async def _sign_in_events(client: httpx.AsyncClient, org: Tenant, user_id: str) -> list[str]:
    audit = (await client.get(org.path("/audit-events"), headers=org.auth)).json()["items"]
    feed = (await client.get(org.path("/events"), headers=org.auth)).json()["items"]
    found = [item["action"] for item in audit if item["action"] in SIGN_INS and item["target_id"] == user_id]
    return found + [f"feed:{event['type']}" for event in feed if "sign" in event["type"]]


async def test_an_org_that_only_invited_an_account_hears_none_of_its_sign_ins(
    client: httpx.AsyncClient, runtime: Runtime, alice: Victim, tenant: Tenant, other_tenant: Tenant
) -> None:
    invited = await client.post(other_tenant.path("/members"), json={"email": alice.email}, headers=other_tenant.auth)
    assert invited.json()["membership_status"] == "invited"
    quiet = await _sign_in_events(client, other_tenant, alice.id)  # its own owner's sign-ins aside
    heard = [action for action in await _sign_in_events(client, tenant, alice.id) if action in SIGN_INS]
    await token_for(client, alice.email)
    failed = {"grant_type": "password", "username": alice.email, "password": "not the password"}
    assert (await client.post("/api/v1/auth/token", data=failed)).status_code == 400
    for org in (None, other_tenant.slug):  # the hosted sign-in, naming the inviting organization or not
        page = await client.get("/ui/sign-in", params={"org": org} if org else {})
        form = {"email": alice.email, "password": PASSWORD, "csrf_token": csrf_of(page.text), "org": org or ""}
        assert (await client.post("/ui/sign-in", data=form)).status_code == 303
        client.cookies.clear()
    assert await _sign_in_events(client, other_tenant, alice.id) == quiet
    # Its own organization hears every one: a sign-in naming another organization is no way to hide one.
    now_heard = [action for action in await _sign_in_events(client, tenant, alice.id) if action in SIGN_INS]
    assert len(now_heard) - len(heard) == 4
