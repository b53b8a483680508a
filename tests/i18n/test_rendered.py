"""Every hosted page and every email, rendered in French and German, shows no English text of the catalog;
pages and emails reach users in the language negotiated for them."""

import html
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po

from tenantry import i18n
from tenantry.runtime import Runtime
from tenantry.templating import BUILTIN, Templates
from tests.conftest import settings_for
from tests.factories import Tenant
from tests.mailbox import Mailbox, csrf_of
from tests.smtp_server import smtp_server
from tests.test_worker import _smtp_worker

TRANSLATED = ["fr", "de"]
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]+>")
_TAG = re.compile(r"<[^>]+>")

USER = {"email": "zoe@exemple.test", "first_name": "Zoë", "last_name": "Kowalczyk"}
BRAND = {"name": "Kestrel", "color": "#7a1f5c", "logo_url": None, "support_email": "aide@kestrel.test"}
ENDPOINT = {"id": "6b11f5800204a8b2d507b123", "url": "https://hooks.kestrel.test/in"}


def _variants(full: dict[str, Any], *bare: dict[str, Any]) -> list[dict[str, Any]]:
    return [full, *({**full, **each} for each in bare)]


EMAILS: dict[str, list[dict[str, Any]]] = {
    name: _variants(
        {
            "user": USER,
            "org_name": "Kestrel",
            "brand": BRAND,
            "link": "https://id.kestrel.test/ui/x?token=abc",
            "expires_in": "3",
            "new_email": "zoe.k@exemple.test",
            "endpoint": ENDPOINT,
            "days": 3,
            "method": "passkey",
            "added_at": datetime(2026, 12, 5, 10, 3, tzinfo=UTC),
            "client_ip": "203.0.113.7",
        },
        {"org_name": None, "brand": None, "user": {**USER, "first_name": None}, "method": "otp", "client_ip": None},
    )
    for name in sorted({p.name.split(".")[0] for p in (BUILTIN / "email").glob("*.subject.txt")})
}
_ERRORS = {"email": "x", "password": "y", "code": "z"}
PAGES: dict[str, list[dict[str, Any]]] = {
    "account.html": _variants(
        {
            "user": {**USER, "email_verified": True},
            "memberships": [{"org_name": "Kestrel", "org_slug": "kestrel", "roles": [], "status": "active"}],
            "invitations": [{"org": {"id": "1", "name": "Kestrel", "slug": "kestrel"}}],
            "mfa": {"totp": {"enrolled_at": datetime(2026, 12, 3, tzinfo=UTC)}, "recovery_codes_remaining": 3},
            "notice": None,
            "profile_errors": {},
            "password_errors": {},
        },
        {"user": {**USER, "email_verified": False}, "memberships": [], "mfa": {"totp": None, "required": True}},
        {
            "mfa": {"totp": None, "passkeys": 1, "recovery_codes_remaining": 0},
            "passkeys": [
                {
                    "id": "p1",
                    "name": "Laptop",
                    "created_at": datetime(2026, 12, 3, tzinfo=UTC),
                    "last_used_at": datetime(2026, 12, 3, tzinfo=UTC),
                }
            ],
        },
        {"mfa": {"totp": None, "passkeys": 1, "recovery_codes_remaining": 2}},
    ),
    "choose_org.html": [{"client_name": "Kiosk", "params": {}, "orgs": [{"id": "1", "name": "K"}], "email": "z@x"}],
    "confirm.html": [{"heading": "H", "intro": "I", "action": "/", "button": "B", "token": "t"}],
    "consent.html": _variants(
        {"client_name": "Kiosk", "org_name": "Kestrel", "email": "z@x", "asks": [], "params": {}},
        {"org_name": None},
    ),
    "forgot_password.html": [{"errors": _ERRORS, "email": "z@x"}],
    "join.html": [{"org": {"name": "Kestrel"}, "token": "t"}],
    "message.html": [
        {"title": "T", "text": "X", "links": {"account": "/a", "sign_in": "/s", "sign_out": "/o", "forgot": "/f"}}
    ],
    "mfa.html": _variants(
        {"method": "otp", "methods": ["otp", "passkey", "recovery_code"], "errors": _ERRORS, "next_url": "/n"},
        {"method": "recovery_code"},
        {"method": "recovery_code", "methods": ["passkey", "recovery_code"]},
    ),
    "mfa_enrol.html": _variants(
        {"qr": "", "secret": "ABC", "action": "/", "required": True, "errors": _ERRORS}, {"required": False}
    ),
    "recovery_codes.html": [{"codes": ["abcd-efgh"], "next": "/"}],
    "set_password.html": [
        {"heading": "H", "intro": "I", "action": "/", "button": "B", "token": "t", "email": "z@x", "hint": "h"}
    ],
    "sign_in.html": _variants(
        {"org_name": "Kestrel", "unknown_org": "nope", "notice": "n", "errors": _ERRORS, "org": "k"},
        {"org_name": None},
    ),
}


def _english(lang: str) -> tuple[list[str], set[str]]:
    """The English texts of the catalog a page in ``lang`` must not show: long fragments (found anywhere) and
    short messages (found as a whole text of an element). Messages the language writes the same are left out."""
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    fragments, whole = [], set()
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for msgid in ids:
            if msgid in strings:
                continue
            pieces = [p.strip(" .,:;()") for p in _PLACEHOLDER.split(msgid)]
            fragments += [p for p in pieces if len(p) >= 12 and " " in p and not any(p in t for t in strings)]
            # Short labels are found as an element's whole text; lower-case words ("member", "on") are left
            # to the completeness check, since data (a role named "member") may read the same.
            if len(msgid) < 12 and not _PLACEHOLDER.search(msgid) and msgid[:1].isupper():
                whole.add(msgid)
    return fragments, whole


def _assert_no_english(rendered: str, lang: str, where: str) -> None:
    fragments, whole = _english(lang)
    text = html.unescape(rendered)
    leaked = [fragment for fragment in fragments if fragment in text]
    nodes = {node.strip() for node in _TAG.split(text)}
    leaked += sorted(nodes & whole)
    assert not leaked, f"{where} in {lang} shows English: {leaked}"


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(settings_for(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('t')}/unused.db"))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_email_is_translated(templates: Templates, lang: str) -> None:
    assert EMAILS, "no email templates found"
    for name, contexts in EMAILS.items():
        for context in contexts:
            with i18n.language(lang):
                for part in ("subject.txt", "txt", "html"):
                    _assert_no_english(templates.render(f"email/{name}.{part}", context), lang, f"{name}.{part}")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_hosted_page_is_translated(templates: Templates, lang: str) -> None:
    built = {p.name for p in (BUILTIN / "ui").glob("*.html")} - {"base.html", "forms.html", "passkey_form.html"}
    assert built == set(PAGES), "a hosted page has no sample context in this test"
    for name, contexts in PAGES.items():
        for context in contexts:
            with i18n.language(lang):
                rendered = templates.render(f"ui/{name}", {"csrf_token": "c", "brand": None, **context})
            assert f'<html lang="{lang}">' in rendered
            _assert_no_english(rendered, lang, name)


def test_the_english_check_catches_english(templates: Templates) -> None:
    with i18n.language("en"):
        rendered = templates.render("ui/forgot_password.html", {"csrf_token": "c", "errors": {}})
    with pytest.raises(AssertionError, match="Forgot your password"):
        _assert_no_english(rendered, "fr", "forgot_password.html")


async def test_a_page_follows_accept_language(client: httpx.AsyncClient) -> None:
    french = await client.get("/ui/sign-in", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in french.text
    assert "Aller au contenu" in french.text
    assert "Mot de passe oublié" in french.text
    _assert_no_english(french.text, "fr", "/ui/sign-in")
    german = await client.get("/ui/sign-in", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in german.text
    assert "Passwort vergessen?" in german.text
    english = await client.get("/ui/sign-in", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in english.text


async def test_ui_locales_of_the_openid_request_wins(client: httpx.AsyncClient) -> None:
    url = "/ui/sign-in?continue=" + httpx.QueryParams({"x": "/oidc/authorize?client_id=a&ui_locales=de fr"})["x"]
    page = await client.get(url, headers={"Accept-Language": "fr"})
    assert '<html lang="de">' in page.text


async def test_the_orgs_default_language_and_the_users_locale(client: httpx.AsyncClient, tenant: Tenant) -> None:
    changed = await client.patch(tenant.path(), json={"default_language": "de"}, headers=tenant.auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["default_language"] == "de"
    no_preference = await client.get(f"/ui/sign-in?org={tenant.slug}")
    assert '<html lang="de">' in no_preference.text
    browser = await client.get(f"/ui/sign-in?org={tenant.slug}", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in browser.text
    refused = await client.patch(tenant.path(), json={"default_language": "xx"}, headers=tenant.auth)
    assert refused.status_code == 422


async def test_the_password_rules_are_plain_words_in_the_users_language(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox
) -> None:
    """The activation page of a French user states the rules and the refusal in French, without rule codes."""
    created = await client.post(
        tenant.path("/users"), json={"email": "lea@exemple.test", "locale": "fr-FR"}, headers=tenant.auth
    )
    assert created.status_code == 201
    mail = await mailbox.one_for("lea@exemple.test")
    page = await client.get(mail.link, headers={"Accept-Language": "en"})  # her own locale comes first
    assert '<html lang="fr">' in page.text
    assert "Au moins 8 caractères." in page.text
    fields = {"token": mail.link.split("token=")[1], "password": "password", "password_repeat": "password"}
    refused = await client.post("/ui/activate", data={**fields, "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 400
    assert "Ce mot de passe est trop courant" in refused.text
    assert "block_common" not in refused.text
    _assert_no_english(refused.text, "fr", "/ui/activate")
    api = await client.post(
        tenant.path("/users"), json={"email": "weak@exemple.test", "password": "password"}, headers=tenant.auth
    )
    assert api.status_code == 422
    assert [(e["field"], e["code"]) for e in api.json()["errors"]] == [("password", "block_common")]


async def test_an_invitation_is_mailed_in_the_invitees_locale(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    for email, locale in (("fr@exemple.test", "fr"), ("de@exemple.test", "de-AT"), ("en@exemple.test", None)):
        body = {"email": email, **({"locale": locale} if locale else {})}
        assert (await client.post(tenant.path("/users"), json=body, headers=tenant.auth)).status_code == 201
    with smtp_server() as (inbox, url):
        assert await _smtp_worker(runtime, database_url, url).run_once() == 3
    received: dict[str, EmailMessage] = {str(m["To"]): m for m in inbox.accepted}
    org = tenant.slug.title()
    assert received["fr@exemple.test"]["Subject"] == f"{org} vous a invité\u00a0: choisissez votre mot de passe"
    assert received["de@exemple.test"]["Subject"] == f"{org} hat Sie eingeladen: Legen Sie Ihr Passwort fest"
    assert received["en@exemple.test"]["Subject"] == f"{org} invited you: set your password"
    for address, lang in (("fr@exemple.test", "fr"), ("de@exemple.test", "de")):
        text, body_html = (part.get_content() for part in received[address].iter_parts())
        _assert_no_english(text, lang, "invitation.txt")
        _assert_no_english(body_html, lang, "invitation.html")
    assert "expire dans 7 jours" in next(received["fr@exemple.test"].iter_parts()).get_content()


def test_the_catalogs_ship_in_the_package() -> None:
    assert Path(i18n.__file__).parent == i18n.LOCALE_DIR.parent
    for lang in TRANSLATED:
        assert (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").is_file()


async def test_the_console_speaks_the_admins_language(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The console's pages, rendered in French and German, show none of the catalog's English."""
    from tests.console.test_pages import sign_in

    member = await tenant.add_user("colleague@example.com")
    await sign_in(client, tenant.owner.email)
    names = ("members", "import", "audit", "api-keys", "partners", "roles", "settings")
    pages = [f"/console/{tenant.slug}/{page}" for page in names]
    pages += [f"/console/{tenant.slug}/members/{member.id}"]
    for lang in TRANSLATED:
        for page in pages:
            response = await client.get(page, headers={"Accept-Language": lang})
            assert response.status_code == 200, (page, response.text[:300])
            assert f'<html lang="{lang}">' in response.text, page
            _assert_no_english(response.text, lang, page)
