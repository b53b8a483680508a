"""The hosted pages and their stylesheet, mounted on the application."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tenantry.ui import account, account_mfa, brand, invitations, links, mfa, pages, passkeys, signin
from tenantry.web.routing import include_routes


def install(app: FastAPI) -> None:
    pages.install(app)
    for module in (signin, mfa, passkeys, links, account, account_mfa, invitations, brand):
        include_routes(app.router, module.router)
    app.mount("/ui/static", StaticFiles(directory=Path(__file__).parent / "static"), name="ui-static")
