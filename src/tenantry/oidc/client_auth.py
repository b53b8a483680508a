"""Client authentication at the token, revocation and introspection endpoints: ``client_secret_basic``,
``client_secret_post``, or ``none`` for public clients (RFC 6749 section 2.3)."""

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.brute_force import client_ip
from tenantry.core.clients import service as clients
from tenantry.core.clients.models import CONFIDENTIAL, OAuthClient
from tenantry.errors import MalformedBody, OAuthError
from tenantry.runtime import runtime_of
from tenantry.web.forms import media_type

_FAILED = "client authentication failed"
_LONGEST = 4096
"""The longest value a parameter may have, but for ``_TOKENS``."""
_TOKENS = frozenset({"token", "subject_token", "actor_token", "refresh_token"})
"""Parameters that carry a token back (revocation, introspection, token exchange, refresh). An access token
lists every role and permission its user holds in its organization: 50 roles of 200 permissions each, all
distinct and 100 characters long, make a token of over a megabyte, past the body's own limit. No fixed length
short of that limit holds every token this service issues, so these are bounded by the request body limit
(``TENANTRY_MAX_BODY_BYTES``, enforced before the form is read) instead."""


def _invalid_client() -> OAuthError:
    return OAuthError("invalid_client", _FAILED, status=401)


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client() from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise _invalid_client()
    return unquote(client_id), unquote(secret)  # RFC 6749 2.3.1: form-encoded before base64


async def authenticate(session: AsyncSession, request: Request, fields: dict[str, Any]) -> OAuthClient:
    """The client the request authenticates as; 401 invalid_client otherwise. A confidential client must
    present a live secret; a public one only names itself (and may not present a secret). A wrong secret
    counts as a failed sign-in of the client IP, and an IP over its failures is refused before any check."""
    throttle, ip = runtime_of(request).throttle, client_ip(request)
    basic = _basic(request)
    secret: object
    if basic is not None:
        client_id, secret = basic
        if "client_secret" in fields:
            raise OAuthError("invalid_request", "authenticate the client one way: Basic or client_secret, not both")
        if fields.get("client_id", client_id) != client_id:
            raise _invalid_client()
    else:
        client_id, secret = str(fields.get("client_id") or ""), fields.get("client_secret")
    client = await clients.find(session, client_id) if client_id else None
    if client is None:
        raise _invalid_client()
    if client.type == CONFIDENTIAL:
        if await throttle.failures_exceeded(ip):
            raise _invalid_client()
        if not isinstance(secret, str) or not await clients.secret_matches(session, client, secret):
            await throttle.count_failure(ip)
            raise _invalid_client()
    elif secret:
        raise _invalid_client()
    return client


async def read_form(request: Request) -> dict[str, str]:
    """The form-encoded parameters of a back-channel request (each at most once, RFC 6749 section 3.2), each
    at most ``_LONGEST`` characters long but for a token."""
    if media_type(request) != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the parameters form-encoded (application/x-www-form-urlencoded)")
    try:
        form = await request.form()
    except MalformedBody as error:
        raise OAuthError("invalid_request", error.detail) from None
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or key in fields or (len(value) > _LONGEST and key not in _TOKENS):
            raise OAuthError("invalid_request", f"parameter {key!r} is repeated, too long or not text")
        fields[key] = value
    return fields
