"""The console's other pages in process: API keys, audit log, roles, settings, import and export; each
change checked through the API."""

import asyncio
import re

import httpx

from tenantry.runtime import Runtime
from tests.console.test_pages import post, sign_in, token_of
from tests.factories import Tenant, bearer, make_tenant
from tests.mailbox import Mailbox
from tests.oidc.flow import app_token


async def test_api_key_is_shown_once_listed_by_prefix_and_revoked(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    keys = f"/console/{tenant.slug}/api-keys"
    created = await post(client, keys, keys, {"name": "deploy bot", "roles": "viewer"})
    assert created.status_code == 201
    key = re.search(r'id="created-key" type="text" value="([^"]+)"', created.text)
    assert key is not None
    assert (await client.get("/api/v1/orgs/" + tenant.slug, headers={"x-api-key": key.group(1)})).status_code == 200
    listed = await client.get(keys)
    assert key.group(1) not in listed.text
    (item,) = (await tenant.client.get(tenant.path("/api-keys"), headers=tenant.auth)).json()["items"]
    assert item["prefix"] in listed.text
    assert (await client.get(f"{keys}/{item['id']}/revoke")).status_code == 200
    assert (await post(client, keys, f"{keys}/{item['id']}/revoke")).status_code == 303
    assert (await tenant.client.get(tenant.path("/api-keys"), headers=tenant.auth)).json()["items"] == []
    assert (await client.get("/api/v1/orgs/" + tenant.slug, headers={"x-api-key": key.group(1)})).status_code == 401


async def test_audit_log_is_newest_first_and_filters_by_action(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    await tenant.client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)
    await sign_in(client, tenant.owner.email)
    page = await client.get(f"/console/{tenant.slug}/audit")
    assert page.text.index("member.disabled") < page.text.index("user.created")
    only = await client.get(
        f"/console/{tenant.slug}/audit", params={"action": "member.disabled", "since": "2000-01-01"}
    )
    assert "member.disabled" in only.text
    assert "user.created" not in only.text
    bad = await client.get(f"/console/{tenant.slug}/audit", params={"since": "yesterday"})
    assert 'role="alert"' in bad.text


async def test_audit_log_names_the_application_whose_token_acted(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    client_id, token = await app_token(client, root_token, tenant.slug, tenant.owner.email)  # signs the browser in
    member = await tenant.add_user()
    await client.post(tenant.path(f"/users/{member.id}/disable"), headers=bearer(token))
    page = await client.get(f"/console/{tenant.slug}/audit", params={"actor": client_id})
    assert "member.disabled" in page.text
    assert f"through the application {client_id}" in page.text


async def test_a_member_page_shows_its_audit_events_to_whom_the_audit_log_is_open_never_a_partner(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    """The page follows the audit log's own policy: a partner whose link's role holds ``audit:read`` is refused
    the log, so it reads none of it here either."""
    partner = await make_tenant(client, root_token, "partner-co")
    linked = await tenant.client.post(
        tenant.path("/partners"), json={"partner_org": partner.slug, "role": "admin"}, headers=tenant.auth
    )
    assert linked.status_code == 201, linked.text
    member = await tenant.add_user()
    assert (
        await tenant.client.post(tenant.path(f"/users/{member.id}/disable"), headers=tenant.auth)
    ).status_code == 200
    page = f"/console/{tenant.slug}/members/{member.id}"
    for viewer, shown in ((tenant.owner.email, True), (partner.owner.email, False)):
        client.cookies.clear()
        await sign_in(client, viewer)
        answer = await client.get(page)
        assert answer.status_code == 200, answer.text
        assert ("member.disabled" in answer.text, "Recent events" in answer.text) == (shown, shown), viewer


async def test_roles_page_lists_builtin_roles_and_creates_a_custom_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sign_in(client, tenant.owner.email)
    roles = f"/console/{tenant.slug}/roles"
    page = await client.get(roles)
    assert "supervisor" in page.text
    assert 'value="users:read"' in page.text
    created = await post(client, roles, roles, {"name": "auditor", "permissions": "audit:read"})
    assert created.status_code == 303
    role = await tenant.client.get(tenant.path("/roles/auditor"), headers=tenant.auth)
    assert role.json()["permissions"] == ["audit:read"]
    taken = await post(client, roles, roles, {"name": "auditor"})
    assert taken.status_code == 409


async def test_settings_change_name_and_mfa_requirement(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    settings = f"/console/{tenant.slug}/settings"
    page = await client.get(settings)
    assert "/scim/v2" in page.text
    fields = {"name": "Renamed", "slug": tenant.slug, "description": "", "mfa_required": "on"}
    assert (await post(client, settings, settings, fields)).status_code == 303
    org = (await tenant.client.get(tenant.path(), headers=tenant.auth)).json()
    assert org["name"] == "Renamed"
    assert org["settings"]["mfa_required"] is True


async def test_import_runs_in_the_background_and_reports_rows_not_created(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    await sign_in(client, tenant.owner.email)
    upload = f"/console/{tenant.slug}/import"
    token = token_of((await client.get(upload)).text)
    rows = "".join(f"imported{n}@example.com,First{n},Last{n},,viewer\n" for n in range(5))
    csv_text = "email,first_name,last_name,password,roles\n" + rows + "broken,,,,\n"
    started = await client.post(
        upload, data={"format": "native", "csrf_token": token}, files={"file": ("people.csv", csv_text, "text/csv")}
    )
    assert started.status_code == 303, started.text
    job = re.search(r"/import/([0-9a-f]{24})$", started.headers["location"])
    assert job is not None
    progress = (await client.get(started.headers["location"])).text
    assert "<progress" in progress
    for _ in range(200):
        progress = (await client.get(f"{upload}/{job.group(1)}", headers={"HX-Request": "true"})).text
        if "Import finished" in progress:
            break
        await asyncio.sleep(0.05)
    assert "Import finished" in progress
    assert 'id="import-created">5<' in progress
    report = await client.get(f"{upload}/{job.group(1)}/errors.csv")
    assert "broken" in report.text
    listed = await tenant.client.get(tenant.path("/users"), params={"q": "imported"}, headers=tenant.auth)
    assert len(listed.json()["items"]) == 5
    exported = await client.get(f"/console/{tenant.slug}/export.csv")
    assert "imported3@example.com" in exported.text
    for download in (report, exported):  # members' addresses: kept by no browser or proxy cache
        assert download.headers["cache-control"] == "no-store", download.headers
    empty = await client.post(upload, data={"format": "native", "csrf_token": token})
    assert empty.status_code == 400


async def test_an_upload_with_a_row_wider_than_the_format_is_refused_naming_its_line(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sign_in(client, tenant.owner.email)
    upload = f"/console/{tenant.slug}/import"
    token = token_of((await client.get(upload)).text)
    csv_text = "email,first_name\nada@example.com,Ada\n" + "bob@example.com," + ",".join(["abc"] * 100_000) + "\n"
    refused = await client.post(
        upload, data={"format": "native", "csrf_token": token}, files={"file": ("wide.csv", csv_text, "text/csv")}
    )
    assert refused.status_code == 400
    assert "CSV file: line 3 has more than 15 cells" in refused.text
    listed = await tenant.client.get(tenant.path("/users"), params={"q": "ada@"}, headers=tenant.auth)
    assert listed.json()["items"] == []


async def _imported(client: httpx.AsyncClient, tenant: Tenant, csv_text: str, **fields: str) -> str:
    """Upload ``csv_text`` from the import page and wait for the end: the finished progress fragment."""
    upload = f"/console/{tenant.slug}/import"
    page = (await client.get(upload)).text
    started = await client.post(
        upload,
        data={"format": "native", "csrf_token": token_of(page), **fields},
        files={"file": ("people.csv", csv_text, "text/csv")},
    )
    assert started.status_code == 303, started.text
    for _ in range(200):
        progress = (await client.get(started.headers["location"], headers={"HX-Request": "true"})).text
        if "Import finished" in progress:
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(progress)


async def test_the_import_mails_invitations_only_when_its_box_is_ticked(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    await sign_in(client, tenant.owner.email)
    page = await client.get(f"/console/{tenant.slug}/import")
    assert re.search(r'<input type="checkbox" name="invite" value="on" id="invite" checked', page.text)
    header = "email,first_name,last_name,password,roles\n"
    invited = (
        header + "mailed1@example.com,A,B,,viewer\nmailed2@example.com,C,D,,\nwithpw@example.com,E,F,Pw-12345678!x,\n"
    )
    progress = await _imported(client, tenant, invited, invite="on")
    assert re.search(r"Invitations mailed</dt><dd>2<", progress), progress
    assert 'id="import-created">3<' in progress
    sent = {mail.to for mail in await mailbox.deliver()}
    assert sent == {"mailed1@example.com", "mailed2@example.com"}
    quiet = header + "quiet1@example.com,A,B,,\nquiet2@example.com,C,D,,\n"
    progress = await _imported(client, tenant, quiet)  # the box unticked: the browser sends no "invite"
    assert 'id="import-created">2<' in progress
    assert re.search(r"Invitations mailed</dt><dd>0<", progress), progress
    assert [mail.to for mail in await mailbox.deliver()] == []
    listed = await tenant.client.get(tenant.path("/users"), params={"q": "quiet"}, headers=tenant.auth)
    assert [user["status"] for user in listed.json()["items"]] == ["invited", "invited"]


async def test_partners_are_granted_listed_and_revoked(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await sign_in(client, tenant.owner.email)
    partners = f"/console/{tenant.slug}/partners"
    granted = await post(client, partners, partners, {"partner_org": other_tenant.slug, "role": "viewer"})
    assert granted.status_code == 303, granted.text
    (link,) = (await tenant.client.get(tenant.path("/partners"), headers=tenant.auth)).json()["items"]
    assert link["role"]["name"] == "viewer"
    page = await client.get(partners)
    assert other_tenant.slug in page.text
    unknown = await post(client, partners, partners, {"partner_org": "no-such-org", "role": "viewer"})
    assert unknown.status_code in {400, 409}
    revoked = await post(client, partners, f"{partners}/{other_tenant.slug}/revoke")
    assert revoked.status_code == 303
    assert (await tenant.client.get(tenant.path("/partners"), headers=tenant.auth)).json()["items"] == []


async def test_member_page_shows_roles_scoped_to_resources(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user()
    resource = await tenant.client.post(
        tenant.path("/resources"), json={"type": "environment", "name": "Staging"}, headers=tenant.auth
    )
    assert resource.status_code == 201, resource.text
    scoped = [{"role": "editor", "resource": resource.json()["id"]}]
    granted = await tenant.client.put(
        tenant.path(f"/users/{member.id}/scoped-roles"), json={"grants": scoped}, headers=tenant.auth
    )
    assert granted.status_code == 200, granted.text
    await sign_in(client, tenant.owner.email)
    page = await client.get(f"/console/{tenant.slug}/members/{member.id}")
    assert "Staging" in page.text
    assert "editor" in page.text


async def test_impersonation_token_acts_as_the_member_here_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    member = await tenant.add_user(roles=["viewer"])
    await sign_in(client, tenant.owner.email)
    base = f"/console/{tenant.slug}/members/{member.id}"
    page = await post(client, base, f"{base}/impersonate")
    assert page.status_code == 200, page.text
    token = re.search(r'id="impersonation-token" type="text" value="([^"]+)"', page.text)
    assert token is not None
    me = await client.get("/api/v1/me", headers={"authorization": f"Bearer {token.group(1)}"})
    assert me.json()["id"] == member.id
    own = await client.get(f"/console/{tenant.slug}/members/{tenant.owner.id}")
    assert "Impersonate" not in own.text
