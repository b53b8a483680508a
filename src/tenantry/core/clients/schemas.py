"""What the client endpoints read and answer. Redirect URIs match exactly: no wildcards, https (http only
for loopback hosts, as RFC 8252 allows native apps, whose port may vary), no fragment."""

from datetime import datetime
from ipaddress import ip_address
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tenantry.core.fields import Name, storable
from tenantry.i18n import N_
from tenantry.urls import split_url

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
CLIENT_CREDENTIALS = "client_credentials"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GrantType = Literal[
    "authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"
]
DEFAULT_GRANT_TYPES: list[GrantType] = ["authorization_code", "refresh_token"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _portless(uri: str) -> str | None:
    """An http loopback URI without its port; None for any other URI."""
    parts = split_url(uri)
    if parts is None:
        return None
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme != "http" or host is None or not is_loopback(host) or parts.username or parts.password:
        return None
    return parts._replace(netloc=f"[{host}]" if ":" in host else host).geturl()


def redirect_registered(registered: list[str], presented: str) -> bool:
    """Whether ``presented`` is one of the ``registered`` redirect URIs: exactly, except that an http
    loopback URI may name any port, as native apps listen on one the system picks (RFC 8252 section 7.3)."""
    if presented in registered:
        return True
    portless = _portless(presented)
    return portless is not None and any(_portless(uri) == portless for uri in registered)


def _secure_url(value: str) -> str:
    storable(value)
    if "*" in value:
        raise ValueError(N_("must not contain wildcards: URIs match exactly"))
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(N_("must be an absolute https URL"))
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(N_("must use https (http only for loopback hosts: localhost, 127.0.0.1, [::1])"))
    if parts.username or parts.password:
        raise ValueError(N_("must not carry credentials"))
    return value


def _redirect_uri(value: str) -> str:
    _secure_url(value)
    if "#" in value:
        raise ValueError(N_("must not have a fragment"))
    return value


def _origin(value: str) -> str:
    _secure_url(value)
    parts = urlsplit(value)
    if parts.path or parts.query or parts.fragment:
        raise ValueError(N_("must be an origin: scheme://host[:port], nothing after"))
    return value


_LIMIT = "When set, the only permissions its tokens carry; null: every permission the user holds."
Permission = Annotated[str, Field(max_length=100)]
RedirectUri = Annotated[str, Field(max_length=2000), AfterValidator(_redirect_uri)]
Origin = Annotated[str, Field(max_length=500), AfterValidator(_origin)]


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1)
    type: Literal["confidential", "public"]
    redirect_uris: list[RedirectUri] = Field(min_length=1, max_length=20)
    post_logout_redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=20)
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=20)
    grant_types: list[GrantType] = Field(default_factory=lambda: list(DEFAULT_GRANT_TYPES), min_length=1, max_length=4)
    permissions: list[Permission] | None = Field(default=None, max_length=200, description=_LIMIT)


class ClientUpdate(BaseModel):
    """Fields to change; the type of a client never changes (create another)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = Field(default=None, min_length=1)
    redirect_uris: list[RedirectUri] | None = Field(default=None, min_length=1, max_length=20)
    post_logout_redirect_uris: list[RedirectUri] | None = Field(default=None, max_length=20)
    allowed_origins: list[Origin] | None = Field(default=None, max_length=20)
    grant_types: list[GrantType] | None = Field(default=None, min_length=1, max_length=4)
    permissions: list[Permission] | None = Field(default=None, max_length=200, description=_LIMIT)


class ClientOut(BaseModel):
    client_id: str
    org_id: str | None = Field(description="The owning organization; null for a platform client.")
    name: str
    type: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    allowed_origins: list[str]
    grant_types: list[str]
    permissions: list[str] | None = Field(description=_LIMIT)
    created_at: datetime
    updated_at: datetime


class ClientCreated(ClientOut):
    client_secret: str | None = Field(
        description="Confidential clients: the secret, in this answer only (stored hashed). Null for public clients."
    )


class SecretRotated(BaseModel):
    client_id: str
    client_secret: str = Field(description="The new secret, in this answer only.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the secrets it replaces keep working (the grace period)."
    )


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None
