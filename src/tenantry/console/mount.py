"""The console's routes and assets, mounted on the application.

htmx comes from the ``django-js-lib-htmx`` package (its ``htmx.min.js``, no Django needed), served by
Tenantry itself: no CDN, nothing fetched at run time. Assets are public, as any stylesheet is.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tenantry.console import (
    audit,
    clients,
    home,
    imports,
    keys,
    member,
    members,
    partners,
    roles,
    settings,
    webhooks,
)
from tenantry.web.routing import include_routes

HTMX_DIRECTORY = Path(str(files("js_lib_htmx") / "static" / "htmx"))


def install(app: FastAPI) -> None:
    for module in (home, members, member, roles, keys, audit, imports, partners, settings, webhooks, clients):
        include_routes(app.router, module.router)
    app.mount("/console/static/htmx", StaticFiles(directory=HTMX_DIRECTORY), name="console-htmx")
    app.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "static"), name="console-static")
