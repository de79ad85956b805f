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


def check_address(host: str, address: Address, allowed: Sequence[Network]) -> None:
    """Public addresses pass; any other only inside an allowed network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global or any(address in network for network in allowed):
        return
    raise ClosedDestination(
        f"{host} is {address}, a private address; webhooks reach private networks only when"
        " ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS names them"
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
