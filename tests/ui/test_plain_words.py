"""What a hosted page says when something is wrong is in the user's language and plain words: never a rule's
code, never an API's JSON body, never a developer's English sentence."""

import httpx
import pytest
from fastapi import FastAPI

from tenantry.core.credentials.policy import PLAIN_RULES
from tenantry.errors import RateLimited
from tenantry.ui import account
from tests.factories import PASSWORD, Tenant
from tests.i18n.test_rendered import _assert_no_english
from tests.mailbox import Mailbox, submit

EVERY_RULE = {
    "min_length": 30,
    "max_length": 40,
    "require_lowercase": True,
    "require_uppercase": True,
    "require_digit": True,
    "require_symbol": True,
    "min_character_classes": 4,
    "block_common": True,
    "block_context": True,
    "blocked_words": ["kestrel"],
}


def _no_rule_code(text: str) -> None:
    shown = [code for code in PLAIN_RULES if code in text]
    assert not shown, f"rule codes shown to the user: {shown}"


@pytest.mark.parametrize("lang", ["fr", "de"])
async def test_a_refused_password_names_no_rule_code_on_any_page(
    client: httpx.AsyncClient, tenant: Tenant, mailbox: Mailbox, lang: str
) -> None:
    """Activation, reset, the forced change and my account's change: every rule broken at once, in plain words."""
    member = await tenant.add_user("member-of-kestrel@exemple.test")
    assert (await client.patch(tenant.path(), json={"password_policy": EVERY_RULE}, headers=tenant.auth)).is_success
    client.headers["Accept-Language"] = lang
    created = await client.post(tenant.path("/users"), json={"email": "kestrel@exemple.test"}, headers=tenant.auth)
    assert created.status_code == 201
    link = (await mailbox.one_for("kestrel@exemple.test")).link
    weak = "kestrel" + "a" * 40  # too long, one class, the blocked word, the email's name
    fields = {"token": link.split("token=")[1], "password": weak, "password_repeat": weak}
    refused = await submit(client, link, "/ui/activate", fields)
    assert refused.status_code == 400
    _no_rule_code(refused.text)
    _assert_no_english(refused.text, lang, "/ui/activate")

    await client.post("/api/v1/auth/password-reset", json={"email": member.email})
    reset = (await mailbox.one_for(member.email)).link
    fields = {"token": reset.split("token=")[1], "password": PASSWORD, "password_repeat": PASSWORD}
    same = await submit(client, reset, "/ui/reset-password", fields)
    assert same.status_code == 400
    _no_rule_code(same.text)
    _assert_no_english(same.text, lang, "/ui/reset-password")

    await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": member.email, "password": PASSWORD})
    fields = {"current_password": "not it", "new_password": weak, "new_password_repeat": weak}
    changed = await submit(client, "/ui/account", "/ui/account/password", fields)
    assert changed.status_code == 400
    _no_rule_code(changed.text)
    _assert_no_english(changed.text, lang, "/ui/account/password")


async def test_a_password_with_a_nul_character_is_refused_in_words_not_a_500(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": tenant.owner.email, "password": PASSWORD})
    client.headers["Accept-Language"] = "de"
    odd = "a long pass\x00phrase of mine"
    fields = {"current_password": PASSWORD, "new_password": odd, "new_password_repeat": odd}
    refused = await submit(client, "/ui/account", "/ui/account/password", fields)
    assert refused.status_code == 400
    assert "Neues Passwort: darf keine NUL-Zeichen enthalten" in refused.text
    _assert_no_english(refused.text, "de", "/ui/account/password")


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/ui/no-such-page", 404, "Page introuvable"),
        ("PUT", "/ui/sign-in", 405, "Cette page ne peut pas être ouverte ainsi"),
        ("GET", "/ui/activate?token=" + "x" * 300, 400, "Cette adresse ne fonctionne pas"),
    ],
)
async def test_a_wrong_address_under_ui_answers_a_page_in_the_browsers_language(
    client: httpx.AsyncClient, method: str, path: str, status: int, title: str
) -> None:
    page = await client.request(method, path, headers={"Accept-Language": "fr"})
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in page.text
    assert "Content-Security-Policy" in page.headers
    _assert_no_english(page.text, "fr", path)
    api = await client.request(method, "/api/v1/no-such-thing")  # the API keeps its problem details
    assert api.headers["content-type"] == "application/problem+json"


async def test_an_unreadable_authorization_request_is_explained_in_the_users_words(client: httpx.AsyncClient) -> None:
    page = await client.get("/oidc/authorize?client_id=a&client_id=b", headers={"Accept-Language": "de"})
    assert page.status_code == 400
    assert "repeated or too long" not in page.text
    assert "client_id" not in page.text
    _assert_no_english(page.text, "de", "/oidc/authorize")
    posted = await client.post("/oidc/authorize", json={"client_id": "a"}, headers={"Accept-Language": "de"})
    assert posted.status_code == 400
    assert "form-encoded" not in posted.text
    assert "<h1>Diese Anmeldung kann nicht fortgesetzt werden</h1>" in posted.text
    _assert_no_english(posted.text, "de", "POST /oidc/authorize")


async def test_a_refusal_or_failure_no_page_caught_is_a_page_in_the_browsers_language(
    app: FastAPI, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await submit(client, "/ui/sign-in", "/ui/sign-in", {"email": tenant.owner.email, "password": PASSWORD})
        client.headers["Accept-Language"] = "de"

        async def limited(*_: object) -> None:
            raise RateLimited("too many requests", retry_after=7)

        monkeypatch.setattr(account.account, "memberships_of", limited)
        refused = await client.get("/ui/account")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "7"
        assert refused.headers["content-type"].startswith("text/html")
        assert "too many requests" not in refused.text
        _assert_no_english(refused.text, "de", "/ui/account (429)")

        async def broken(*_: object) -> None:
            raise RuntimeError("a bug of ours")

        monkeypatch.setattr(account.account, "memberships_of", broken)
        failed = await client.get("/ui/account")
        assert failed.status_code == 500
        assert '<html lang="de">' in failed.text
        assert "<h1>Etwas ist schiefgelaufen</h1>" in failed.text
        assert "a bug of ours" not in failed.text
        api = await client.get(tenant.path("/users"), headers=tenant.auth)  # other surfaces: as before
        assert api.status_code == 200
