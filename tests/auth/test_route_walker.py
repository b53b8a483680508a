"""Every route of the app, mounted applications included, refuses whoever its policy refuses, changing nothing.

Each route that declares a policy is probed with: (a) no credentials, 401; under an organization (named
by its id, which every surface accepts), (b) a member of another organization, 404 (or 403 where a
vendor's surface answers so), (c) a member without the route's permission, 403, (d) an impersonation token
where the policy forbids impersonation, 403, (e) a partner's member where the policy forbids partners,
403, and one whose partner link was revoked, as (b), (f) a token the OpenID provider bound to another
organization, held by this organization's owner, as (b). Routes outside any organization get (d) too,
and API keys or non-admins where the policy wants a user or a platform admin; a platform admin's token
bound to one organization is not a platform admin's (403), and such a bound token does not change the
account as a whole (its password, second factors, every session: 403).
Afterwards every table holds exactly what it held before. Routes without a policy must be documented as
public.
"""

from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api import errors
from tenantry.app import create_app
from tenantry.auth import access_tokens
from tenantry.auth.policy import OrgAccess, Policy, RoutePolicy, org_member, route_policies
from tenantry.core.audit.models import AuditEvent
from tenantry.core.memberships import repository as memberships_repository
from tenantry.core.memberships import service as memberships
from tenantry.runtime import Runtime, get_session
from tenantry.web.routing import UnitOfWorkRoute
from tests.factories import Tenant, bearer, make_tenant
from tests.snapshots import Rows, every_row


def demo_dialect(runtime: Runtime) -> FastAPI:
    """A sub-application mounted the way dialects are, with a vendor's parameter names: walked like the rest."""
    router = APIRouter(route_class=UnitOfWorkRoute)
    readers = org_member(Policy("users:read", partner=True), path_param="orgId")
    removers = org_member(Policy("users:delete", impersonation=False), path_param="orgId")

    @router.get("/orgs/{orgId}/people")
    async def people(access: Annotated[OrgAccess, Depends(readers)]) -> dict[str, str]:
        return {"org": access.org.id}

    @router.post("/orgs/{orgId}/people/{userId}/remove", status_code=204)
    async def remove(
        userId: str,
        access: Annotated[OrgAccess, Depends(removers)],
        session: Annotated[AsyncSession, Depends(get_session)],
    ) -> None:
        member = await memberships.get(session, access.org, userId)
        await memberships.remove(session, access.actor, access.org, member)

    dialect = FastAPI()
    dialect.state.runtime = runtime
    errors.install(dialect)
    dialect.include_router(router)
    return dialect


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    app = create_app(runtime=runtime)
    app.mount("/compat/demo", demo_dialect(runtime))
    return app


def _fill(route: RoutePolicy, org: str, things: dict[str, str]) -> str:
    """The route's path with the organization and real things of it in every parameter."""
    path = route.path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        if name == route.org_param:
            value = org
        else:
            kind = next((kind for kind in things if kind in name.lower()), "user")
            value = things[kind]
        path = path.replace(f"{{{name}}}", value)
    return path


async def test_every_route_refuses_who_its_policy_refuses_without_side_effects(
    client: httpx.AsyncClient,
    app: FastAPI,
    runtime: Runtime,
    root_token: str,
    tenant: Tenant,
    other_tenant: Tenant,
    project_root: Path,
) -> None:
    partner = await make_tenant(client, root_token, "partner-co")
    lapsed = await make_tenant(client, root_token, "lapsed-co")
    for linked in (partner, lapsed):
        body = {"partner_org": linked.slug, "role": "admin"}
        assert (await client.post(tenant.path("/partners"), json=body, headers=tenant.auth)).status_code == 201
    await client.delete(tenant.path(f"/partners/{lapsed.slug}"), headers=tenant.auth)

    powerless_role = await client.post(tenant.path("/roles"), json={"name": "nothing"}, headers=tenant.auth)
    role = await client.post(tenant.path("/roles"), json={"name": "probe-role"}, headers=tenant.auth)
    key = await client.post(tenant.path("/api-keys"), json={"name": "k", "roles": ["admin"]}, headers=tenant.auth)
    victim = await tenant.add_user(roles=["viewer"])
    powerless = await tenant.add_user(roles=[powerless_role.json()["name"]])
    admin = await tenant.add_user(roles=["admin"])
    impersonated = await client.post(tenant.path(f"/users/{admin.id}/impersonate"), headers=tenant.auth)
    agent = await partner.add_user(roles=["admin"])
    lapsed_agent = await lapsed.add_user(roles=["admin"])
    things = {"user": victim.id, "role": role.json()["id"], "key": key.json()["id"], "partner": partner.id}
    attach = {"email": tenant.owner.email, "roles": ["owner"]}
    assert (
        await client.post(other_tenant.path("/members"), json=attach, headers=bearer(root_token))
    ).status_code == 201
    root_id = (await client.get("/api/v1/me", headers=bearer(root_token))).json()["id"]

    async def bound_to_other_org(user_id: str) -> dict[str, str]:
        """An access token as the OpenID provider mints it for ``other_tenant`` (org_id bound)."""
        extra = {"client_id": "f" * 24, "scope": "openid", "org_slug": other_tenant.slug}
        token = await access_tokens.issue(
            runtime.keyring, runtime.settings, user_id, session_id=None, org_id=other_tenant.id, extra_claims=extra
        )
        return bearer(token)

    callers = {
        "other org": other_tenant.auth,
        "no permission": powerless.auth,
        "impersonated": bearer(impersonated.json()["access_token"]),
        "partner": agent.auth,
        "lapsed partner": lapsed_agent.auth,
        "api key": bearer(key.json()["key"]),
        "not platform admin": tenant.auth,
        "owner, token of another org": await bound_to_other_org(tenant.owner.id),
        "platform admin, token of an org": await bound_to_other_org(root_id),
    }

    routes = [route for route in route_policies(app) if route.policy is not None]
    public = [f"{route.method} {route.path}" for route in route_policies(app) if route.policy is None]
    before = await every_row(runtime)
    probes = 0
    for route in routes:
        policy = route.policy
        assert policy is not None
        # Outside the organization: 404 in the native API; a vendor's surface may answer 403 as its vendor does.
        outside = {404} if route.path.startswith("/api/v1/") else {403, 404}
        expected: list[tuple[str | None, set[int]]] = [(None, {401})]
        if route.org_param is not None:
            expected.append(("other org", outside))
            expected.append(("owner, token of another org", outside))
            expected.append(("platform admin, token of an org", outside))
            if policy.permission is not None:
                expected.append(("no permission", {403}))
            if not policy.partner:
                expected.append(("partner", {403}))
            expected.append(("lapsed partner", outside))
        if policy.platform_admin:
            expected.append(("not platform admin", {403}))
            if route.org_param is None:
                expected.append(("platform admin, token of an org", {403}))
        if policy.users_only:
            expected.append(("api key", {403}))
        if policy.own_account:  # the account's password, factors, every session: never with a bound token
            expected.append(("owner, token of another org", {403}))
        if not policy.impersonation:
            expected.append(("impersonated", {403}))
        path = _fill(route, tenant.id, things)
        for who, statuses in expected:
            headers = callers[who] if who else {}
            response = await client.request(route.method, path, json={}, headers=headers)
            assert response.status_code in statuses, (route.method, path, who, response.status_code, response.text)
            probes += 1
    after = await every_row(runtime)

    print(f"route walker: {probes} probes over {len(routes)} routes ({len(public)} public: {', '.join(public)})")
    assert {route.path for route in routes} >= {"/compat/demo/orgs/{orgId}/people/{userId}/remove"}
    assert len(routes) >= 35
    assert probes >= 4 * len(routes)
    assert after[AuditEvent.__tablename__] == before[AuditEvent.__tablename__]
    assert after == before
    documented = (project_root / "docs" / "api.md").read_text().splitlines()
    for route in public:  # a route without a policy says how it is reached instead: public, a link, a session
        row = next((line for line in documented if line.startswith(f"| `{route}` |")), "")
        access = row.split("|")[2].strip() if row else ""
        assert access.startswith("public") or access == "session cookie", route


_SECRETS = {"first_name": "Secretfirst", "last_name": "Secretlast", "locale": "tr-TR", "region": "TR"}
_SECRET_ATTRIBUTES = {"ssn_last4": "Secret9876", "employee_id": "SecretE4711"}
_SECRET_TEXT = ["Secretfirst", "Secretlast", "tr-TR", "Secret9876", "SecretE4711"]


def _concerning(snap: Rows, account_id: str, owner_org_id: str, membership_id: str) -> Rows:
    """The rows about the account or its owning organization, but the invitation itself (and the owning
    organization's audit log, not the inviting one's)."""
    ids = {account_id, owner_org_id}
    return {
        name: [
            row
            for row in rows
            if any(value in row for value in (ids if name != "audit_events" else {owner_org_id}))
            and membership_id not in row
        ]
        for name, rows in snap.items()
    }


def _invitation(snap: Rows, membership_id: str) -> list[tuple[Any, ...]]:
    return [row for row in snap["memberships"] if row[0] == membership_id]


async def test_an_org_holding_only_an_invitation_reads_nothing_but_the_email_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    """For every route under an organization, on every surface, globex (which invited acme's user who has not
    accepted) reads no field of the user beyond the email, and changes nothing of the account or of acme: the
    one change it may make is withdrawing its invitation."""
    victim = await tenant.add_user("victim@example.com", **_SECRETS, attributes=_SECRET_ATTRIBUTES)
    role = await client.post(other_tenant.path("/roles"), json={"name": "probe-role"}, headers=other_tenant.auth)
    key = await client.post(
        other_tenant.path("/api-keys"), json={"name": "k", "roles": ["admin"]}, headers=other_tenant.auth
    )
    things = {"email": victim.email, "user": victim.id, "role": role.json()["id"], "key": key.json()["id"]}
    things["partner"] = tenant.id
    callers = [other_tenant.auth, bearer(key.json()["key"])]

    async def invite() -> str:
        invited = await client.post(other_tenant.path("/members"), json={"email": victim.email}, headers=callers[0])
        assert invited.json()["membership_status"] == "invited", invited.text
        async with runtime.database.transaction(write=False) as session:
            found = await memberships_repository.get(session, other_tenant.id, victim.id)
            assert found is not None
            return found.id

    membership_id = await invite()
    # Every route under an organization but deleting the organization itself (its invitations go with it).
    routes = [
        route
        for route in route_policies(app)
        if route.policy is not None
        and route.org_param is not None
        and not (route.method == "DELETE" and route.path.endswith(f"{{{route.org_param}}}"))
    ]
    probes = withdrawn = shown = 0
    for route in routes:
        path = _fill(route, other_tenant.id, things)
        for headers in callers:
            before = await every_row(runtime)
            response = await client.request(route.method, path, json={}, headers=headers)
            after = await every_row(runtime)
            probes += 1
            shown += victim.email in response.text
            assert response.status_code not in {500, 502, 503}, (route.method, path, response.text)
            assert not any(secret in response.text for secret in _SECRET_TEXT), (route.method, path, response.text)
            probe = (route.method, path, response.status_code)
            assert _concerning(after, victim.id, tenant.id, membership_id) == _concerning(
                before, victim.id, tenant.id, membership_id
            ), probe
            if _invitation(after, membership_id) != _invitation(before, membership_id):
                assert _invitation(after, membership_id) == [], probe  # withdrawn, never changed
                withdrawn += 1
                membership_id = await invite()
    print(
        f"invited walker: {probes} probes over {len(routes)} routes, {shown} showed the invited user's email, "
        f"{withdrawn} withdrew the invitation"
    )
    assert probes >= 2 * 35
    assert shown >= 10  # the reads did reach the invited user: each of them showed the email and nothing more
    assert withdrawn >= 1
