"""`tenantry clients create | list | rotate-secret | delete`: the OpenID provider's clients, from a shell."""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import SYSTEM
from tenantry.core.clients import service
from tenantry.core.clients.schemas import ClientCreate
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.models import Organization
from tenantry.db import migrate
from tenantry.db.engine import Database
from tenantry.errors import NotFound, TenantryError
from tenantry.settings import get_settings

clients_app = typer.Typer(help="OAuth 2.0 / OpenID Connect clients.", no_args_is_help=True)
err = Console(stderr=True)
T = TypeVar("T")
OrgOption = Annotated[str | None, typer.Option("--org", help="Owning organization (id or slug); none: platform.")]


async def _in_transaction(org_ref: str | None, work: Callable[[AsyncSession, Organization | None], Awaitable[T]]) -> T:
    settings = get_settings()
    database = Database(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        if database.is_sqlite:
            await migrate.upgrade(database)
        async with database.transaction() as session:
            org = await orgs.find(session, org_ref) if org_ref else None
            if org_ref and org is None:
                raise NotFound(f"no organization {org_ref!r}")
            return await work(session, org)
    finally:
        await database.dispose()


def _run(org_ref: str | None, work: Callable[[AsyncSession, Organization | None], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_in_transaction(org_ref, work))
    except TenantryError as error:
        err.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(1) from None


def _print(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


@clients_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What users see on the consent page.")],
    redirect_uri: Annotated[list[str], typer.Option("--redirect-uri", help="Exact redirect URI (repeatable).")],
    client_type: Annotated[str, typer.Option("--type", help="confidential or public.")] = "confidential",
    post_logout_redirect_uri: Annotated[list[str] | None, typer.Option("--post-logout-redirect-uri")] = None,
    allowed_origin: Annotated[list[str] | None, typer.Option("--allowed-origin", help="CORS origin.")] = None,
    grant_type: Annotated[list[str] | None, typer.Option("--grant-type")] = None,
    org: OrgOption = None,
) -> None:
    """Register a client; prints it with its secret (confidential clients), shown this once."""
    body: dict[str, Any] = {"name": name, "type": client_type, "redirect_uris": redirect_uri}
    body["post_logout_redirect_uris"] = post_logout_redirect_uri or []
    body["allowed_origins"] = allowed_origin or []
    if grant_type:
        body["grant_types"] = grant_type
    try:
        payload = ClientCreate.model_validate(body)
    except ValidationError as error:
        for item in error.errors():
            err.print(f"[red]error:[/red] {'.'.join(str(part) for part in item['loc'])}: {item['msg']}")
        raise typer.Exit(1) from None

    async def work(session: AsyncSession, owner: Organization | None) -> dict[str, Any]:
        created = await service.create(session, SYSTEM, owner, payload)
        return {**service.client_out(created.client).model_dump(), "client_secret": created.secret}

    _print(_run(org, work))


@clients_app.command("list")
def list_clients(org: OrgOption = None) -> None:
    """The platform's clients, or an organization's."""

    async def work(session: AsyncSession, owner: Organization | None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            clients, after = await service.page(session, owner, after=after, limit=200)
            found.extend(service.client_out(client).model_dump() for client in clients)
            if after is None:
                return found

    _print(_run(org, work))


@clients_app.command("rotate-secret")
def rotate_secret(client_id: Annotated[str, typer.Argument()], org: OrgOption = None) -> None:
    """A new secret (printed once); the previous ones work for `TENANTRY_CLIENT_SECRET_GRACE_SECONDS` more."""
    grace = timedelta(seconds=get_settings().client_secret_grace_seconds)

    async def work(session: AsyncSession, owner: Organization | None) -> dict[str, Any]:
        secret, until = await service.rotate_secret(session, SYSTEM, owner, client_id, grace)
        return {"client_id": client_id, "client_secret": secret, "previous_secret_expires_at": until}

    _print(_run(org, work))


@clients_app.command("delete")
def delete(client_id: Annotated[str, typer.Argument()], org: OrgOption = None) -> None:
    """Delete a client; its refresh tokens stop working."""

    async def work(session: AsyncSession, owner: Organization | None) -> None:
        await service.delete(session, SYSTEM, owner, client_id)

    _run(org, work)
    err.print(f"deleted client {client_id}")
