"""The settings page in process."""

import re

import httpx

from tests.console.test_pages import sign_in
from tests.factories import Tenant


async def test_the_settings_title_is_plain_text(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner.email)
    page = (await client.get(f"/console/{tenant.slug}/settings")).text
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title is not None
    assert title.group(1) == f"Settings · {tenant.slug.title()} · Tenantry"
    assert page.count('id="webhooks-heading"') == 1
    assert page.count('id="clients-heading"') == 1
