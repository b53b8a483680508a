"""The import's report is for the admin who ran it: on the console it speaks their language (their browser's),
the file's errors and each row's reason alike; on the command line, as everything there, English."""

import asyncio
import csv
import html
import io
import re

import httpx
import pytest

from tests.console.test_pages import sign_in, token_of
from tests.factories import Tenant

ROWS = (
    "email,first_name,last_name,password,roles\n"
    "fine@example.com,Fine,Row,,member\n"
    "too-few@example.com,Too,Few\n"
    "not-an-email,,,,\n"
    "weak@example.com,,,short,\n"
    "role@example.com,,,,wizard\n"
    "fine@example.com,Again,,,\n"
)
EXPECTED = {
    "fr": [
        ("3", "5 colonnes attendues, 3 trouvées"),
        ("4", "email n\u2019est pas une adresse e-mail valide"),
        ("5", "password\u00a0: Utilisez au moins 8 caractères."),
        ("6", "rôle inconnu 'wizard'"),
        ("7", "cette adresse e-mail figure déjà à la ligne 2"),
    ],
    "de": [
        ("3", "5 Spalten erwartet, 3 gefunden"),
        ("4", "email ist keine gültige E-Mail-Adresse"),
        ("5", "password: Verwenden Sie mindestens 8 Zeichen."),
        ("6", "unbekannte Rolle 'wizard'"),
        ("7", "diese E-Mail-Adresse steht bereits in Zeile 2"),
    ],
}


@pytest.mark.parametrize("lang", ["fr", "de"])
async def test_the_consoles_import_report_speaks_the_admins_language(
    client: httpx.AsyncClient, tenant: Tenant, lang: str
) -> None:
    await sign_in(client, tenant.owner.email)
    client.headers["Accept-Language"] = lang
    upload = f"/console/{tenant.slug}/import"
    token = token_of((await client.get(upload)).text)
    started = await client.post(
        upload, data={"format": "native", "csrf_token": token}, files={"file": ("p.csv", ROWS, "text/csv")}
    )
    assert started.status_code == 303, started.text
    job = re.search(r"/import/([0-9a-f]{24})$", started.headers["location"])
    assert job is not None
    for _ in range(200):
        progress = await client.get(started.headers["location"], headers={"HX-Request": "true"})
        if 'id="import-created"' in progress.text:
            break
        await asyncio.sleep(0.05)
    report = await client.get(f"{upload}/{job.group(1)}/errors.csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [(row["line"], row["reason"]) for row in rows] == EXPECTED[lang]  # in line order, in words


async def test_a_refused_header_is_explained_in_the_admins_language(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    client.headers["Accept-Language"] = "de"
    upload = f"/console/{tenant.slug}/import"
    token = token_of((await client.get(upload)).text)
    refused = await client.post(
        upload,
        data={"format": "native", "csrf_token": token},
        files={"file": ("p.csv", "email,shoe_size\na@example.com,44\n", "text/csv")},
    )
    assert refused.status_code == 400
    assert "unbekannte Spalten ['shoe_size']; möglich sind email, first_name" in html.unescape(refused.text)
    assert "unknown columns" not in refused.text
