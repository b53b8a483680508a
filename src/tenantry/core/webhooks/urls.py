"""Which URLs a webhook may call: https, on public addresses (no SSRF into the service's own network).

The host is checked here when an endpoint is saved (a literal address, in any spelling) and again at every delivery,
after DNS resolution (``tenantry.webhooks.sender`` connects to the address it checked).
``TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS`` lifts both checks (and allows http) for development and tests.
"""

import ipaddress
import socket

from tenantry.errors import FieldError, InvalidInput
from tenantry.i18n import N_
from tenantry.urls import split_url

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to: mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``),
    NAT64 (``64:ff9b::a.b.c.d``) or 6to4 (``2002:AABB:CCDD::``)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable (not private, loopback, link-local, reserved, multicast, shared or documentation),
    and so is the IPv4 address an IPv6 one embeds (Python 3.11 calls ``::127.0.0.1``, ``64:ff9b::10.0.0.1``
    and ``2002:7f00:1::`` global); local-use NAT64 (``64:ff9b:1::/48``) is private."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
        if address.ipv4_mapped is not None:
            return True
    return address.is_global and not address.is_multicast


def _ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    """The address a host names in one of the legacy IPv4 spellings resolvers accept (``2130706433``,
    ``0177.0.0.1``, ``0x7f.1``, ``127.1``), or None for a name."""
    if not host or not all(char in "0123456789abcdefx." for char in host.lower()):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL as given when an endpoint may call it; 422 on ``url`` saying why not."""
    parts = split_url(url)
    if parts is None:  # (an unclosed "[" of an IPv6 host)
        raise InvalidInput([FieldError("url", N_("must name a host"))])
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
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(parts.hostname)
    except ValueError as error:
        if "port" in str(error).lower():
            raise InvalidInput([FieldError("url", N_("has an invalid port"))]) from error
        address = _ipv4_spelling(parts.hostname)
    if address is None:
        return url
    if port == 0 or (not allow_private and not is_public(address)):
        raise InvalidInput([FieldError("url", N_("must be a public address"))])
    return url
