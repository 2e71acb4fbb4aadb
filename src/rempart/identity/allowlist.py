"""Per-tenant IP allowlists: IPv4 and IPv6 CIDRs; an empty list allows every address."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from rempart.errors import PermissionDenied


class NetworkNotAllowed(PermissionDenied):
    """The request comes from an address outside the tenant's allowlist."""

    title = "Network not allowed"
    slug = "network-not-allowed"


def is_allowed(address: str | None, networks: Sequence[str]) -> bool:
    """True when ``networks`` is empty or holds ``address``; an unknown address is refused."""
    if not networks:
        return True
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 client.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for net in networks:
        network = ipaddress.ip_network(net, strict=False)
        if ip.version == network.version and ip in network:
            return True
    return False


def check_allowed(address: str | None, networks: Sequence[str]) -> None:
    if not is_allowed(address, networks):
        raise NetworkNotAllowed("your network address is not allowed for this tenant")


__all__ = ["NetworkNotAllowed", "check_allowed", "is_allowed"]
