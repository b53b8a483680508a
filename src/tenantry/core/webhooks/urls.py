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

# Every range of IANA's special-purpose address registries (iana-ipv4-special-registry and
# iana-ipv6-special-registry), globally reachable or not: anycast services, sinks, relays, benchmarks and
# documentation are no webhook receiver's. Named here rather than left to ``is_global``, whose list varies
# with the Python release (3.11 calls 192.0.0.8, 192.88.99.0/24, 3fff::/20 and 5f00::/16 global). The IPv6
# prefixes that carry an IPv4 address (IPv4-mapped, NAT64's 64:ff9b::/96, 6to4's 2002::/16) are judged by
# that address instead (``_embedded_ipv4``).
_SPECIAL_IPV4 = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (cloud metadata services)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments (dummy address, PCP and TURN anycast, NAT64 discovery)
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private
        "192.175.48.0/24",  # AS112 direct delegation
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast 255.255.255.255
    )
)
_SPECIAL_IPV6 = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy prefix
        "2001::/23",  # IETF protocol assignments (Teredo, PCP/TURN anycast, benchmarking, AMT, AS112, ORCHID)
        "2001:db8::/32",  # documentation
        "2620:4f:8000::/48",  # AS112 direct delegation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing (SRv6) SIDs
        "fc00::/7",  # unique-local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated, still routed by some networks)
        "ff00::/8",  # multicast
    )
)


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
    """In no special-purpose range (``_SPECIAL_IPV4``, ``_SPECIAL_IPV6``) and global to Python too; an IPv6
    address that carries an IPv4 one is judged by it (Python 3.11 calls ``::127.0.0.1``,
    ``64:ff9b::10.0.0.1`` and ``2002:7f00:1::`` global)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        special: tuple[ipaddress.IPv4Network, ...] | tuple[ipaddress.IPv6Network, ...] = _SPECIAL_IPV6
    else:
        special = _SPECIAL_IPV4
    return address.is_global and not address.is_multicast and not any(address in network for network in special)


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
