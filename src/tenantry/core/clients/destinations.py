"""Where a one-time link (a magic link) ends when it is for an application: an OpenID client and one of its
registered redirect URIs, checked when the link is made and kept with it, so that using the link continues
into that client's authorization flow (which issues the app its code) instead of to the hosted account page.

The link's user is not the app's: the app cannot have started the flow, so it has no PKCE verifier. Only
confidential clients (which authenticate at the token endpoint) may be the destination of a link.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.clients import service as clients
from tenantry.core.clients.models import CONFIDENTIAL
from tenantry.core.orgs.models import Organization
from tenantry.errors import FieldError, InvalidInput

_CLIENT, _REDIRECT = "client_id", "redirect_uri"


@dataclass(frozen=True)
class AppDestination:
    client_id: str
    redirect_uri: str

    def details(self) -> dict[str, Any]:
        """What the one-time token keeps (``OneTimeToken.details``)."""
        return {_CLIENT: self.client_id, _REDIRECT: self.redirect_uri}


async def checked(
    session: AsyncSession, org: Organization, client_id: str | None, redirect_uri: str | None
) -> AppDestination | None:
    """The destination named by ``client_id`` and ``redirect_uri`` (both, or neither), or a 422 naming the
    field: a client of the platform or of ``org`` that is confidential, and a redirect URI it registered."""
    if client_id is None and redirect_uri is None:
        return None
    if client_id is None:
        raise InvalidInput([FieldError(_CLIENT, "is required with redirect_uri")])
    if redirect_uri is None:
        raise InvalidInput([FieldError(_REDIRECT, "is required with client_id")])
    client = await clients.find(session, client_id)
    if client is None or client.org_id not in (None, org.id):
        raise InvalidInput([FieldError(_CLIENT, "is not a client of the platform or of this organization")])
    if client.type != CONFIDENTIAL:
        raise InvalidInput([FieldError(_CLIENT, "must be a confidential client (a link cannot carry PKCE)")])
    if redirect_uri not in client.redirect_uris:
        raise InvalidInput([FieldError(_REDIRECT, "is not registered for this client")])
    return AppDestination(client_id, redirect_uri)


def authorization_url(details: dict[str, Any], org_id: str | None) -> str | None:
    """The authorization request a used link continues with (relative), or None when it ends on our pages."""
    client_id, redirect_uri = details.get(_CLIENT), details.get(_REDIRECT)
    if not isinstance(client_id, str) or not isinstance(redirect_uri, str):
        return None
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid"}
    if org_id is not None:
        query["organization"] = org_id
    return f"/oidc/authorize?{urlencode(query)}"
