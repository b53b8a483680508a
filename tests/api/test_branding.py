"""Branding per organization: its pages and emails show its name, colour and logo, and only its admins change it."""

import struct
import zlib
from email.message import EmailMessage

import httpx

from tenantry.runtime import Runtime
from tests.factories import Tenant
from tests.oidc.flow import authorize_url, code_for, register
from tests.smtp_server import smtp_server
from tests.test_worker import _smtp_worker

BRANDING = {
    "display_name": "Kestrel Bank",
    "primary_color": "#7A1F5C",
    "support_email": "help@kestrel.test",
    "email_from_name": "Kestrel Bank Accounts",
}


def _png(size: int = 0) -> bytes:
    """A valid 1x1 PNG, padded with an ancillary chunk to about ``size`` bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    padding = chunk(b"teXt", b"c\x00" + b"x" * max(0, size - 80)) if size else b""
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + padding + pixels + chunk(b"IEND", b"")


async def _brand(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, object]:
    response = await client.patch(tenant.path(), json={"branding": BRANDING}, headers=tenant.auth)
    assert response.status_code == 200, response.text
    return dict(response.json()["branding"])


async def test_the_orgs_pages_show_its_name_colour_and_logo(client: httpx.AsyncClient, tenant: Tenant) -> None:
    branding = await _brand(client, tenant)
    assert branding == {**BRANDING, "primary_color": "#7a1f5c", "logo_url": None}
    assert (await client.get(tenant.path(), headers=tenant.auth)).json()["branding"] == branding
    logo = _png()
    uploaded = await client.put(
        tenant.path("/branding/logo"), content=logo, headers={**tenant.auth, "Content-Type": "image/png"}
    )
    assert uploaded.status_code == 200, uploaded.text
    logo_url = uploaded.json()["branding"]["logo_url"]
    assert logo_url.startswith(f"/ui/brand/{tenant.id}/logo?v=")

    page = await client.get(f"/ui/sign-in?org={tenant.slug}")
    assert page.status_code == 200
    assert '<span class="brand">Kestrel Bank</span>' in page.text
    assert "Sign in to Kestrel Bank" in page.text
    assert "· Kestrel Bank</title>" in page.text
    assert "Tenantry" not in page.text
    assert f'<img class="logo" src="{logo_url.replace("&", "&amp;")}"' in page.text
    css_path = f"/ui/brand/{tenant.id}/style.css?v=7a1f5c"
    assert f'<link rel="stylesheet" href="{css_path}">' in page.text
    # The CSP is the pages' own: logo and colour come from this origin, no inline style or script.
    csp = page.headers["Content-Security-Policy"]
    assert "style-src 'self';" in csp
    assert "img-src 'self' data:;" in csp
    assert "unsafe-inline" not in csp
    assert "style=" not in page.text
    assert "<script>" not in page.text  # no inline script (scripts, if any, come from this origin)

    css = await client.get(css_path)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent: #7a1f5c;" in css.text
    served = await client.get(logo_url)
    assert served.status_code == 200
    assert served.content == logo
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    again = await client.get(logo_url, headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304

    plain = await client.get("/ui/sign-in")
    assert '<span class="brand">Tenantry</span>' in plain.text  # without an org, the service's own name
    removed = await client.delete(tenant.path("/branding/logo"), headers=tenant.auth)
    assert removed.json()["branding"]["logo_url"] is None
    assert (await client.get(logo_url)).status_code == 404


async def test_the_orgs_emails_show_its_name_colour_and_sender(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str
) -> None:
    await _brand(client, tenant)
    invited = await client.post(tenant.path("/users"), json={"email": "new@kestrel.test"}, headers=tenant.auth)
    assert invited.status_code == 201
    with smtp_server() as (inbox, url):
        assert await _smtp_worker(runtime, database_url, url).run_once() == 1
    [received] = inbox.accepted
    assert isinstance(received, EmailMessage)
    assert received["From"] == "Kestrel Bank Accounts <no-reply@localhost>"
    assert received["Subject"] == "Kestrel Bank invited you: set your password"
    text, html = (part.get_content() for part in received.iter_parts())
    assert "Kestrel Bank has created an account for you" in text
    assert "help@kestrel.test" in text
    assert "<strong>Kestrel Bank</strong>" in html
    assert "background:#7a1f5c" in html  # the button wears the org's colour
    assert "help@kestrel.test" in html

    link = next(line for line in text.splitlines() if "/ui/activate?token=" in line).strip()
    activation = await client.get(link)
    assert "Join Kestrel Bank" in activation.text  # the page the invitation opens is branded too
    assert '<span class="brand">Kestrel Bank</span>' in activation.text


async def test_logo_uploads_are_checked(client: httpx.AsyncClient, tenant: Tenant) -> None:
    path = tenant.path("/branding/logo")

    async def put(content: bytes, content_type: str) -> httpx.Response:
        return await client.put(path, content=content, headers={**tenant.auth, "Content-Type": content_type})

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    wrong_type = await put(svg, "image/svg+xml")
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "content-type"
    disguised = await put(svg, "image/png")
    assert disguised.status_code == 422
    assert disguised.json()["errors"] == [{"field": "body", "message": "is not a PNG image"}]
    jpeg_as_png = await put(b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/png")
    assert jpeg_as_png.status_code == 422
    assert (await put(b"", "image/png")).status_code == 422
    too_big = await put(_png(300 * 1024), "image/png")
    assert too_big.status_code == 422
    assert too_big.json()["errors"] == [{"field": "body", "message": "must be at most 256 KiB"}]
    far_too_big = await put(_png(2 * 1024 * 1024), "image/png")
    assert far_too_big.status_code == 413
    assert (await put(b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16, "image/webp")).status_code == 200
    assert (await put(_png(), "image/png; charset=binary")).status_code == 200


async def test_branding_values_are_validated(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for branding, field in (
        ({"primary_color": "red"}, "branding.primary_color"),
        ({"primary_color": "#12345"}, "branding.primary_color"),
        ({"primary_color": "#123456; background:url(x)"}, "branding.primary_color"),
        ({"email_from_name": "Evil\r\nBcc: victim@example.com"}, "branding.email_from_name"),
        ({"support_email": "not an address"}, "branding.support_email"),
        ({"logo": "https://cdn.example.com/logo.png"}, "branding.logo"),
    ):
        response = await client.patch(tenant.path(), json={"branding": branding}, headers=tenant.auth)
        assert response.status_code == 422, branding
        assert [e["field"] for e in response.json()["errors"]] == [field], response.json()
    await _brand(client, tenant)
    partial = await client.patch(tenant.path(), json={"branding": {"display_name": None}}, headers=tenant.auth)
    assert partial.json()["branding"]["display_name"] is None
    assert partial.json()["branding"]["primary_color"] == "#7a1f5c"  # left out: kept
    reset = await client.patch(tenant.path(), json={"branding": None}, headers=tenant.auth)
    assert set(reset.json()["branding"].values()) == {None}


async def test_another_orgs_admin_cannot_change_it(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    patched = await client.patch(tenant.path(), json={"branding": BRANDING}, headers=other_tenant.auth)
    assert patched.status_code == 404
    logo = await client.put(
        tenant.path("/branding/logo"), content=_png(), headers={**other_tenant.auth, "Content-Type": "image/png"}
    )
    assert logo.status_code == 404
    assert (await client.delete(tenant.path("/branding/logo"), headers=other_tenant.auth)).status_code == 404
    member = await tenant.add_user("plain@example.com")
    as_member = await client.patch(
        tenant.path(), json={"branding": BRANDING}, headers={"Authorization": f"Bearer {member.token}"}
    )
    assert as_member.status_code == 403
    assert (await client.get(tenant.path(), headers=tenant.auth)).json()["branding"]["display_name"] is None
    assert (await client.get(f"/ui/brand/{tenant.id}/style.css")).status_code == 404


async def test_the_org_chooser_names_each_org_by_its_display_name(
    client: httpx.AsyncClient, root_token: str, tenant: Tenant
) -> None:
    await _brand(client, tenant)
    registered = await register(client, root_token)
    assert await code_for(client, authorize_url(registered["client_id"]), tenant.owner.email)
    chooser = await client.get(authorize_url(registered["client_id"], prompt="select_account"))
    assert chooser.status_code == 200
    assert f'<label for="org-{tenant.id}">Kestrel Bank</label>' in chooser.text
