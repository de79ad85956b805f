"""Where a webhook may point: public addresses, and the private networks an operator allows.

Any participant may name a webhook URL, and the notifications service POSTs to it from inside
the deployment. Without a check, a URL could reach what only the service can reach (the cloud
metadata address, an admin port on localhost) and the recorded failure reasons would map the
private network. Enterprise receivers often do live on private networks: those networks are
allowed by name (`ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ClosedDestination(Exception):
    """The URL is not a webhook destination this deployment may call; says why."""


# IPv6 forms that carry an IPv4 address in their last 32 bits: NAT64's well-known prefix
# (RFC 6052) and the deprecated IPv4-compatible form. (IPv4-mapped and 6to4 have their own
# properties in `ipaddress`.)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Not globally reachable, though this Python's `ipaddress` does not know it yet: NAT64's
# local-use prefix (RFC 8215).
NOT_GLOBAL = (ipaddress.IPv6Network("64:ff9b:1::/48"),)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, compatible), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def is_public(address: Address) -> bool:
    """Globally routable and unicast, and so is the IPv4 address it embeds, if any."""
    if not address.is_global or address.is_multicast:
        return False
    if any(address in network for network in NOT_GLOBAL):
        return False
    inner = embedded_ipv4(address)
    return inner is None or is_public(inner)


def check_address(host: str, address: Address, allowed: Sequence[Network]) -> None:
    """Public addresses pass; any other only inside an allowed network (the address itself,
    or the IPv4 address it embeds)."""
    if is_public(address):
        return
    named = [a for a in (address, embedded_ipv4(address)) if a is not None]
    if any(a in network for a in named for network in allowed):
        return
    raise ClosedDestination(
        f"{host} is {address}, a private address or another that is not public unicast;"
        " webhooks reach such networks only when ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS names them"
    )


def parts(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL."""
    split = urlsplit(url)
    if split.scheme not in {"http", "https"} or not split.hostname:
        raise ClosedDestination(f"{url!r} is not an http:// or https:// URL")
    try:
        port = split.port or (443 if split.scheme == "https" else 80)
    except ValueError as error:
        raise ClosedDestination(f"{url!r} has a bad port") from error
    return split.hostname, port


async def check_url(
    url: str, allowed: Sequence[Network], *, must_resolve: bool = True
) -> list[Address]:
    """The addresses the URL's host stands for, once every one is an address a webhook may
    reach. A host that does not resolve fails when `must_resolve` (at delivery); else (when
    the URL is chosen) it passes, with no address."""
    host, port = parts(url)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(host, literal, allowed)
        return [literal]
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if must_resolve:
            raise ClosedDestination(f"{host} does not resolve: {error}") from error
        return []
    addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
    if not addresses and must_resolve:
        raise ClosedDestination(f"{host} has no address")
    for address in addresses:
        check_address(host, address, allowed)
    return addresses
