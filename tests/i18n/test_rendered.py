"""Hosted pages and emails speak the language negotiated for them."""

import httpx


async def test_a_page_follows_accept_language(client: httpx.AsyncClient) -> None:
    french = await client.get("/ui/sign-in", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in french.text
    assert "Aller au contenu" in french.text
    german = await client.get("/ui/sign-in", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in german.text
    assert "Zum Inhalt springen" in german.text
    english = await client.get("/ui/sign-in", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in english.text


async def test_ui_locales_of_the_openid_request_wins(client: httpx.AsyncClient) -> None:
    url = "/ui/sign-in?continue=" + httpx.QueryParams({"x": "/oidc/authorize?client_id=a&ui_locales=de fr"})["x"]
    page = await client.get(url, headers={"Accept-Language": "fr"})
    assert '<html lang="de">' in page.text
