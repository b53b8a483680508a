"""What the console says from Python (notices, member actions and their questions, refusal pages, form errors)
speaks the admin's language, as its templates do; so does the OpenID provider's sign-out page."""

import httpx
import pytest

from tenantry import i18n
from tenantry.console.member import ACTIONS, NOTICES
from tests.console.test_pages import post, sign_in
from tests.factories import Tenant
from tests.i18n.test_rendered import _assert_no_english

LANGUAGES = ["fr", "de"]
# Known English a page showed before its strings were marked for translation.
ENGLISH = [
    "Roles saved.",
    "The member is disabled.",
    "Settings saved.",
    "Role created.",
    "Access revoked.",
    "The key is revoked.",
    "Send a password reset",
    "Create a magic link",
    "They are signed out at once",
    "Not found",
    "There is no such page here.",
    "Email address: is not a valid email address",
    "an account with this email already exists",
    "This did not work",
    "you cannot disable yourself",
]


def _in(lang: str, message: str) -> str:
    with i18n.language(lang):
        return i18n.gettext(message)


def _assert_speaks(response: httpx.Response, lang: str, *expected: str) -> None:
    assert f'<html lang="{lang}">' in response.text, response.text[:300]
    for english in ENGLISH:
        assert english not in response.text, (lang, english)
    for text in expected:
        assert text in response.text, (lang, text)
    _assert_no_english(response.text, lang, str(response.url))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_console_notices_speak_the_admins_language(client: httpx.AsyncClient, tenant: Tenant, lang: str) -> None:
    member = await tenant.add_user("colleague@example.com")
    await sign_in(client, tenant.owner.email)
    client.headers["Accept-Language"] = lang
    console = f"/console/{tenant.slug}"
    for notice, text in NOTICES.items():
        page = await client.get(f"{console}/members/{member.id}", params={"notice": notice})
        assert page.status_code == 200
        _assert_speaks(page, lang, _in(lang, text))
    for path, notice, text in (
        ("members", "removed", "The member is removed."),
        ("api-keys", "revoked", "The key is revoked."),
        ("partners", "revoked", "Access revoked."),
        ("roles", "created", "Role created."),
        ("settings", "saved", "Settings saved."),
    ):
        page = await client.get(f"{console}/{path}", params={"notice": notice})
        assert page.status_code == 200
        _assert_speaks(page, lang, _in(lang, text))
    assert _in(lang, "Settings saved.") != "Settings saved."


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_member_actions_and_their_questions_speak_the_admins_language(
    client: httpx.AsyncClient, tenant: Tenant, lang: str
) -> None:
    member = await tenant.add_user("colleague@example.com")
    await sign_in(client, tenant.owner.email)
    client.headers["Accept-Language"] = lang
    base = f"/console/{tenant.slug}/members/{member.id}"
    page = await client.get(base)
    offered = ("disable", "remove", "password-reset", "magic-link", "impersonate")
    _assert_speaks(page, lang, *(_in(lang, ACTIONS[name].label) for name in offered))
    for name in ("disable", "remove"):
        confirm = await client.get(f"{base}/confirm/{name}")
        assert confirm.status_code == 200
        confirmation = ACTIONS[name].confirm
        assert confirmation is not None
        named = {"email": member.email, "org": tenant.slug.title()}
        heading, question = _in(lang, confirmation.heading) % named, _in(lang, confirmation.question) % named
        _assert_speaks(confirm, lang, f"<h1>{heading}</h1>", question)
    assert (await post(client, f"{base}/confirm/disable", f"{base}/disable")).status_code == 303
    enable = await client.get(f"{base}/confirm/enable")
    enabling = ACTIONS["enable"].confirm
    assert enabling is not None
    _assert_speaks(enable, lang, _in(lang, enabling.question) % {"email": member.email, "org": ""})


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_refusals_and_form_errors_speak_the_admins_language(
    client: httpx.AsyncClient, tenant: Tenant, lang: str
) -> None:
    await tenant.add_user("colleague@example.com")
    await sign_in(client, tenant.owner.email)
    client.headers["Accept-Language"] = lang
    console = f"/console/{tenant.slug}"
    missing = await client.get(f"{console}/members/{'0' * 24}")
    assert missing.status_code == 404
    _assert_speaks(missing, lang, _in(lang, "Not found"), _in(lang, "There is no such page here."))

    members = f"{console}/members"
    bad = await post(client, members, members, {"email": "not an address"})
    assert bad.status_code == 400
    label, problem = _in(lang, "Email address"), _in(lang, "is not a valid email address")
    _assert_speaks(bad, lang, _in(lang, "%(field)s: %(problem)s") % {"field": label, "problem": problem})

    taken = await post(client, members, members, {"email": "colleague@example.com"})
    assert taken.status_code == 409
    _assert_speaks(taken, lang, _in(lang, "an account with this email already exists"))

    owner = tenant.owner.id
    refused = await post(client, f"{members}/{owner}", f"{members}/{owner}/disable")
    assert refused.status_code == 409
    yourself = _in(lang, "you cannot disable yourself")
    _assert_speaks(refused, lang, _in(lang, "This did not work"), yourself[:1].upper() + yourself[1:])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_openid_sign_out_page_speaks_the_users_language(client: httpx.AsyncClient, lang: str) -> None:
    page = await client.get("/oidc/logout", headers={"Accept-Language": lang})
    assert page.status_code == 400
    _assert_speaks(page, lang, _in(lang, "Sign out"))
    assert "did not say who is signing out" not in page.text


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_settings_page_and_its_errors_speak_the_admins_language(
    client: httpx.AsyncClient, tenant: Tenant, lang: str
) -> None:
    hook = {"url": "https://hooks.example.com/a", "events": ["*"]}
    created = await client.post(tenant.path("/webhooks"), json=hook, headers=tenant.auth)
    await sign_in(client, tenant.owner.email)
    client.headers["Accept-Language"] = lang
    settings = f"/console/{tenant.slug}/settings"
    page = await client.get(settings)
    _assert_speaks(page, lang, *(_in(lang, text) for text in ("Password policy", "Branding", "Register a client")))
    detail = await client.get(f"{settings}/webhooks/{created.json()['id']}")
    _assert_speaks(detail, lang, _in(lang, "Recent deliveries"), _in(lang, "Rotate the signing secret"))
    for action, fields, problem in (
        ("branding", {"primary_color": "red"}, "must be a colour written #rrggbb (six hexadecimal digits)"),
        (
            "password-policy",
            {"min_length": "9", "max_length": "8", "min_character_classes": "0"},
            "enter at least the minimum length (%(min)s)",
        ),
        ("webhooks", {"webhook_url": "http://x.example/", "events": "user.created"}, "must be an https:// URL"),
        (
            "clients",
            {"client_name": "X", "client_type": "public", "redirect_uris": "https://*.example/cb"},
            "must not contain wildcards: URIs match exactly",
        ),
    ):
        refused = await post(client, settings, f"{settings}/{action}", fields)
        assert refused.status_code == 400, action
        _assert_speaks(refused, lang, _in(lang, problem) % {"min": 9})
