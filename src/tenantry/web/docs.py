"""``/docs`` (Swagger UI) and ``/redoc`` of each application, working with no network: their scripts and
styles come from the ``fastapi-offline`` package and are served by the application itself, under a Content
Security Policy that allows exactly them (no CDN)."""

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from functools import partial
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(files("fastapi_offline") / "static"))
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(html: str) -> str:
    """Scripts from this origin and the page's own inline script (by hash); the UIs' inline styles, images
    and ReDoc's worker; requests to this origin only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    )


def _page(html: HTMLResponse) -> HTMLResponse:
    body = bytes(html.body).decode()
    return HTMLResponse(body, headers={"Content-Security-Policy": _policy(body)})


def _docs_page(
    app: FastAPI, build: Callable[..., HTMLResponse], **assets: str
) -> Callable[[Request], Awaitable[Response]]:
    """A page ``build`` makes from the document's URL, the title and ``assets`` (each argument's file, by its
    URL under the app's root path)."""

    async def page(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        urls = {argument: f"{root}/docs/assets/{file}" for argument, file in assets.items()}
        return _page(build(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - API", **urls))

    return page


def offline_docs(app: FastAPI) -> None:
    """Serve ``app``'s document at ``/docs`` and ``/redoc`` (build ``app`` with ``docs_url=None, redoc_url=None``)."""
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    swagger_ui = _docs_page(
        app,
        get_swagger_ui_html,
        swagger_js_url="swagger-ui-bundle.js",
        swagger_css_url="swagger-ui.css",
        swagger_favicon_url="favicon.png",
    )
    redoc = _docs_page(
        app,
        partial(get_redoc_html, with_google_fonts=False),
        redoc_js_url="redoc.standalone.js",
        redoc_favicon_url="favicon.png",
    )

    # Plain routes, as FastAPI's own docs pages are: not operations of the API.
    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


def other_documents(prefixes: dict[str, str]) -> str:
    """A Markdown list linking the OpenAPI document and docs page of each mounted application, by name."""
    lines = [
        f"- {name}: [`{prefix}/openapi.json`]({prefix}/openapi.json), [docs]({prefix}/docs)"
        for name, prefix in prefixes.items()
    ]
    return "\n\nThe other APIs of this service each have their own document:\n\n" + "\n".join(lines) + "\n"
