"""The settings page in process: password policy, branding (the logo too), webhooks and OAuth clients,
each change made through the same services as the API and checked through the API; each section shown only
to those who may use it, and refused to others anyway."""

import base64
import html
import re

import httpx

from tenantry.app import create_app
from tenantry.core.webhooks.models import WebhookDelivery
from tenantry.runtime import Runtime
from tests.console.test_pages import post, sign_in, token_of
from tests.factories import Tenant

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _settings(tenant: Tenant) -> str:
    return f"/console/{tenant.slug}/settings"


def _shown(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}" type="text" value="([^"]+)"', page)
    assert found is not None, f"no {field_id} on the page"
    return html.unescape(found.group(1))


async def _org(tenant: Tenant) -> dict[str, object]:
    response = await tenant.client.get(tenant.path(), headers=tenant.auth)
    assert response.status_code == 200
    org: dict[str, object] = response.json()
    return org


async def test_the_settings_title_is_plain_text(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    page = (await client.get(_settings(tenant))).text
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title is not None
    assert title.group(1) == f"Settings · {tenant.slug.title()} · Tenantry"
    assert page.count('id="webhooks-heading"') == 1
    assert page.count('id="clients-heading"') == 1


async def test_every_settings_form_carries_the_csrf_token_and_labels_its_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sign_in(client, tenant.owner.email)
    page = (await client.get(_settings(tenant))).text
    forms = re.findall(r'<form method="post".*?</form>', page, re.DOTALL)
    assert len(forms) >= 5
    for form in forms:
        assert 'name="csrf_token"' in form, form[:120]
    for field_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page):
        assert f'for="{field_id}"' in page or re.search(rf'<label class="choice"><input [^>]*id="{field_id}"', page)
    assert "<script>" not in page
    refused = await client.post(f"{_settings(tenant)}/password-policy", data={"min_length": "12"})
    assert refused.status_code == 403
    assert (await _org(tenant))["password_policy"]["min_length"] == 8  # type: ignore[index]


async def test_password_policy_is_saved_as_the_api_reads_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    settings = _settings(tenant)
    fields = {
        "min_length": "12",
        "max_length": "64",
        "min_character_classes": "3",
        "require_digit": "on",
        "block_common": "on",
        "blocked_words": "acme\nrocket, anvil",
    }
    saved = await post(client, settings, f"{settings}/password-policy", fields)
    assert saved.status_code == 303, saved.text
    policy = (await _org(tenant))["password_policy"]
    assert policy == {
        "min_length": 12,
        "max_length": 64,
        "require_lowercase": False,
        "require_uppercase": False,
        "require_digit": True,
        "require_symbol": False,
        "min_character_classes": 3,
        "block_common": True,
        "block_context": False,
        "blocked_words": ["acme", "anvil", "rocket"],
    }
    page = await client.get(saved.headers["location"])
    assert "Password policy saved." in page.text
    assert (
        'id="min_length" name="min_length" type="number" inputmode="numeric" min="1" max="1024" value="12"' in page.text
    )

    crossed = await post(
        client, settings, f"{settings}/password-policy", {**fields, "min_length": "20", "max_length": "10"}
    )
    assert crossed.status_code == 400
    assert 'role="alert"' in crossed.text
    assert '<a href="#max_length">Longest password: enter at least the minimum length (20)</a>' in crossed.text
    not_a_number = await post(client, settings, f"{settings}/password-policy", {**fields, "min_length": "twelve"})
    assert not_a_number.status_code == 400
    assert '<a href="#min_length">Shortest password: enter a whole number</a>' in not_a_number.text
    short_word = await post(client, settings, f"{settings}/password-policy", {**fields, "blocked_words": "ab"})
    assert '<a href="#blocked_words">Blocked words: enter at least 3 characters</a>' in short_word.text
    assert (await _org(tenant))["password_policy"]["min_length"] == 12  # type: ignore[index]


async def test_branding_and_logo_are_saved_as_the_api_reads_them(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    settings = _settings(tenant)
    token = token_of((await client.get(settings)).text)
    fields = {
        "display_name": "Acme Rockets",
        "primary_color": "#AA3300",
        "support_email": "help@acme.example",
        "email_from_name": "Acme Team",
        "csrf_token": token,
    }
    saved = await client.post(f"{settings}/branding", data=fields, files={"logo": ("logo.png", PNG, "image/png")})
    assert saved.status_code == 303, saved.text
    brand = (await _org(tenant))["branding"]
    assert isinstance(brand, dict)
    assert brand["display_name"] == "Acme Rockets"
    assert brand["primary_color"] == "#aa3300"
    assert (brand["support_email"], brand["email_from_name"]) == ("help@acme.example", "Acme Team")
    assert brand["logo_url"]
    logo = await client.get(brand["logo_url"])
    assert logo.content == PNG
    page = (await client.get(settings)).text
    assert f'src="{html.escape(brand["logo_url"])}"' in page

    fake = await client.post(
        f"{settings}/branding", data=fields, files={"logo": ("logo.png", b"<svg onload=alert(1)>", "image/png")}
    )
    assert fake.status_code == 400
    assert '<a href="#logo">Logo: choose a PNG, JPEG, WEBP image of at most 256 KiB</a>' in fake.text
    too_big = await client.post(
        f"{settings}/branding", data=fields, files={"logo": ("big.png", PNG + b"\0" * 300 * 1024, "image/png")}
    )
    assert too_big.status_code == 400
    beyond_the_body_limit = await client.post(
        f"{settings}/branding", data=fields, files={"logo": ("huge.png", PNG + b"\0" * 2 * 1024 * 1024, "image/png")}
    )
    assert beyond_the_body_limit.status_code == 413
    assert "This form could not be sent" in beyond_the_body_limit.text
    bad_color = await client.post(f"{settings}/branding", data={**fields, "primary_color": "red"})
    assert bad_color.status_code == 400
    assert '<a href="#primary_color">Colour: must be a colour written #rrggbb' in bad_color.text
    assert (await _org(tenant))["branding"]["logo_url"] == brand["logo_url"]  # type: ignore[index]

    cleared = await client.post(f"{settings}/branding", data={"csrf_token": token, "display_name": ""})
    assert cleared.status_code == 303
    assert (await _org(tenant))["branding"]["display_name"] is None  # type: ignore[index]
    removed = await post(client, settings, f"{settings}/branding/logo/remove")
    assert removed.status_code == 303
    assert (await _org(tenant))["branding"]["logo_url"] is None  # type: ignore[index]


async def test_webhooks_are_created_switched_rotated_redelivered_and_deleted(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    await sign_in(client, tenant.owner.email)
    settings = _settings(tenant)
    hooks = f"{settings}/webhooks"
    api = tenant.path("/webhooks")
    refused = await post(client, settings, hooks, {"webhook_url": "http://10.0.0.1/hooks", "events": "user.created"})
    assert refused.status_code == 400
    assert '<a href="#webhook_url">Endpoint URL: must be an https:// URL</a>' in refused.text
    none_chosen = await post(client, settings, hooks, {"webhook_url": "https://hooks.example.com/t"})
    assert '<a href="#events">Events: choose at least one event</a>' in none_chosen.text
    opened = await client.get(settings)
    created = await client.post(
        hooks,
        data={
            "webhook_url": "https://hooks.example.com/tenantry",
            "events": ["user.created", "user.deleted"],
            "csrf_token": token_of(opened.text),
        },
    )
    assert created.status_code == 201, created.text
    secret = _shown(created.text, "webhook-secret")
    assert secret.startswith("whsec_")
    (hook,) = (await client.get(api, headers=tenant.auth)).json()["items"]
    assert (hook["url"], hook["events"], hook["enabled"]) == (
        "https://hooks.example.com/tenantry",
        ["user.created", "user.deleted"],
        True,
    )
    listed = await client.get(settings)
    assert secret not in listed.text
    page = f"{hooks}/{hook['id']}"
    assert (await post(client, page, f"{page}/disable")).status_code == 303
    assert (await client.get(f"{api}/{hook['id']}", headers=tenant.auth)).json()["enabled"] is False
    assert "Send again" not in (await client.get(page)).text
    assert (await post(client, page, f"{page}/enable")).status_code == 303
    assert (await client.get(f"{api}/{hook['id']}", headers=tenant.auth)).json()["enabled"] is True

    rotated = await post(client, page, f"{page}/rotate-secret")
    assert rotated.status_code == 200
    assert _shown(rotated.text, "webhook-secret") not in {secret, ""}
    actions = await client.get(tenant.path("/audit-events"), params={"target": hook["id"]}, headers=tenant.auth)
    assert "webhook.secret_rotated" in {event["action"] for event in actions.json()["items"]}

    async with runtime.database.transaction() as session:
        session.add(WebhookDelivery(endpoint_id=hook["id"], event_id="a" * 24, status="failed", error="timed out"))
    deliveries = (await client.get(page)).text
    assert "a" * 24 in deliveries
    assert "timed out" in deliveries
    (attempt,) = (await client.get(f"{api}/{hook['id']}/deliveries", headers=tenant.auth)).json()["items"]
    again = await post(client, page, f"{page}/deliveries/{attempt['id']}/redeliver")
    assert again.status_code == 303
    assert "The event is on its way again." in (await client.get(again.headers["location"])).text
    actions = await client.get(tenant.path("/audit-events"), params={"target": hook["id"]}, headers=tenant.auth)
    assert "webhook.redelivered" in {event["action"] for event in actions.json()["items"]}

    confirm = await client.get(f"{page}/delete")
    assert confirm.status_code == 200
    assert "Delete the webhook https://hooks.example.com/tenantry" in confirm.text
    assert (await post(client, f"{page}/delete", f"{page}/delete")).status_code == 303
    assert (await client.get(f"{api}/{hook['id']}", headers=tenant.auth)).status_code == 404


async def test_oauth_clients_are_registered_rotated_and_deleted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    settings = _settings(tenant)
    clients = f"{settings}/clients"
    fields = {"client_name": "Billing", "client_type": "confidential", "redirect_uris": "https://billing.example/cb"}
    wildcard = await post(client, settings, clients, {**fields, "redirect_uris": "https://*.example/cb"})
    assert wildcard.status_code == 400
    assert '<a href="#redirect_uris">Redirect URIs: must not contain wildcards' in wildcard.text
    unnamed = await post(client, settings, clients, {**fields, "client_name": ""})
    assert '<a href="#client_name">Client name: enter a name</a>' in unnamed.text

    created = await post(client, settings, clients, {**fields, "redirect_uris": fields["redirect_uris"] + "\n"})
    assert created.status_code == 201, created.text
    client_id, secret = _shown(created.text, "client-id"), _shown(created.text, "client-secret")
    shown = (await client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.auth)).json()
    assert (shown["name"], shown["type"], shown["redirect_uris"]) == (
        "Billing",
        "confidential",
        [fields["redirect_uris"]],
    )
    introspected = await client.post("/oidc/introspect", data={"token": "x"}, auth=(client_id, secret))
    assert introspected.status_code == 200, introspected.text
    assert secret not in (await client.get(settings)).text

    rotated = await post(client, settings, f"{clients}/{client_id}/secret")
    assert rotated.status_code == 200
    new_secret = _shown(rotated.text, "client-secret")
    assert new_secret != secret
    assert "The previous secrets keep working until" in rotated.text
    assert (await client.post("/oidc/introspect", data={"token": "x"}, auth=(client_id, new_secret))).status_code == 200

    public = await post(client, settings, clients, {**fields, "client_name": "Mobile", "client_type": "public"})
    assert public.status_code == 201
    assert 'id="client-secret"' not in public.text

    assert (await client.get(f"{clients}/{client_id}/delete")).status_code == 200
    assert (await post(client, settings, f"{clients}/{client_id}/delete")).status_code == 303
    assert (await client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.auth)).status_code == 404
    assert (await client.post("/oidc/introspect", data={"token": "x"}, auth=(client_id, new_secret))).status_code == 401


async def test_each_section_shows_to_those_who_may_use_it_and_the_server_refuses_the_rest(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    role = {"name": "hook-keeper", "permissions": ["webhooks:write"]}
    assert (await client.post(tenant.path("/roles"), json=role, headers=tenant.auth)).status_code == 201
    keeper = await tenant.add_user(roles=["hook-keeper"])
    await sign_in(client, keeper.email)
    settings = _settings(tenant)
    page = await client.get(settings)
    assert page.status_code == 200
    assert 'id="webhooks-heading"' in page.text
    for absent in ('id="password-heading"', 'id="branding-heading"', 'id="clients-heading"', 'id="name"'):
        assert absent not in page.text, absent
    assert f'href="/console/{tenant.slug}/settings"' in page.text  # the tab
    for action in ("", "/password-policy", "/branding", "/branding/logo/remove", "/clients"):
        refused = await post(client, settings, f"{settings}{action}", {"name": "Taken", "min_length": "30"})
        assert refused.status_code == 403, action
    org = await _org(tenant)
    assert org["name"] != "Taken"

    member = await tenant.add_user(roles=["member"])
    client.cookies.clear()
    await sign_in(client, member.email)
    assert (await client.get(settings)).status_code == 403
    members = (await client.get(f"/console/{tenant.slug}/members")).text
    assert f'href="/console/{tenant.slug}/settings"' not in members

    (hook,) = [
        (
            await client.post(
                tenant.path("/webhooks"),
                json={"url": "https://hooks.example.com/a", "events": ["*"]},
                headers=tenant.auth,
            )
        ).json()
    ]
    client.cookies.clear()
    await sign_in(client, other_tenant.owner.email)
    for path in ("", f"/webhooks/{hook['id']}", f"/webhooks/{hook['id']}/delete"):
        assert (await client.get(f"{settings}{path}")).status_code == 404, path
    own = _settings(other_tenant)
    stolen = await post(client, own, f"/console/{other_tenant.slug}/settings/webhooks/{hook['id']}/delete")
    assert stolen.status_code == 404
    assert (await client.get(f"{tenant.path('/webhooks')}/{hook['id']}", headers=tenant.auth)).status_code == 200


async def test_a_webhook_over_the_organizations_cap_is_refused_with_the_reason(
    runtime: Runtime, tenant: Tenant
) -> None:
    capped = Runtime(**{**runtime.__dict__, "settings": runtime.settings.model_copy(update={"webhooks_per_org": 1})})
    transport = httpx.ASGITransport(app=create_app(runtime=capped))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, tenant.owner.email)
        settings = _settings(tenant)
        fields = {"webhook_url": "https://hooks.example.com/first", "events": "user.created"}
        assert (await post(client, settings, f"{settings}/webhooks", fields)).status_code == 201
        fields["webhook_url"] = "https://hooks.example.com/second"
        refused = await post(client, settings, f"{settings}/webhooks", fields)
    assert refused.status_code == 400
    assert "Webhooks: the organization has reached its limit of webhooks" in html.unescape(refused.text)
