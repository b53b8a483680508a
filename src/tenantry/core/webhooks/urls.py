"""Which URLs a webhook may call: https, on public addresses (no SSRF into the service's own network).

The host is checked here when an endpoint is saved (a literal address) and again at every delivery,
after DNS resolution (``tenantry.webhooks.sender`` connects to the address it checked).
``TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS`` lifts both checks (and allows http) for development and tests.
"""

import ipaddress
from urllib.parse import urlsplit

from tenantry.errors import FieldError, InvalidInput
from tenantry.i18n import N_


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable (not private, loopback, link-local, reserved, multicast, shared or documentation)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL as given when an endpoint may call it; 422 on ``url`` saying why not."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise InvalidInput([FieldError("url", N_("must be an https:// URL"))])
    if not parts.hostname:
        raise InvalidInput([FieldError("url", N_("must name a host"))])
    if parts.username is not None or parts.password is not None:
        raise InvalidInput([FieldError("url", N_("must not hold credentials"))])
    if parts.fragment:
        raise InvalidInput([FieldError("url", N_("must not have a fragment"))])
    try:
        port = parts.port
        address = ipaddress.ip_address(parts.hostname)
    except ValueError as error:
        if "port" in str(error).lower():
            raise InvalidInput([FieldError("url", N_("has an invalid port"))]) from error
        return url
    if port == 0 or (not allow_private and not is_public(address)):
        raise InvalidInput([FieldError("url", N_("must be a public address"))])
    return url
