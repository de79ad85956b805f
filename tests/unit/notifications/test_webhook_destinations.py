"""Which addresses a webhook may reach, decided without touching the network (literal IPs)."""

from __future__ import annotations

import ipaddress

import pytest

from services.notifications.channels.destinations import ClosedDestination, check_url

PRIVATE = [
    "http://127.0.0.1:8000/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "https://100.64.0.1/hook",  # carrier-grade NAT
    "http://224.0.0.1/hook",  # multicast, though `ipaddress` counts it as global
    "http://[ff02::1]/hook",
    "http://255.255.255.255/hook",
    "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[64:ff9b:1::a00:1]/hook",  # NAT64's local-use prefix
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/hook",  # 6to4 of the cloud metadata address
    "http://[::127.0.0.1]/hook",  # IPv4-compatible form of 127.0.0.1
    "http://[::ffff:0a00:0001]/hook",  # IPv4-mapped 10.0.0.1, written in hex
    "http://[2001::1]/hook",  # Teredo
]


@pytest.mark.parametrize("url", PRIVATE)
async def test_private_and_special_addresses_are_closed_by_default(url: str) -> None:
    with pytest.raises(ClosedDestination, match="private address"):
        await check_url(url, [])


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hook",
        "http://[2606:4700::1111]:8443/hook",
        "http://[64:ff9b::808:808]/hook",  # NAT64 of a public address
        "http://[2002:808:808::1]/hook",  # 6to4 of a public address
    ],
)
async def test_public_addresses_are_open(url: str) -> None:
    await check_url(url, [])


@pytest.mark.parametrize(
    "url", ["http://[64:ff9b::a14:304]/hook", "http://[2002:a14:304::1]/hook", "http://10.20.3.4/"]
)
async def test_an_allowed_network_opens_its_addresses_in_their_ipv6_forms_too(url: str) -> None:
    await check_url(url, [ipaddress.ip_network("10.20.0.0/16")])


async def test_an_allowed_multicast_group_is_open_because_the_operator_named_it() -> None:
    await check_url("http://224.0.0.1/hook", [ipaddress.ip_network("224.0.0.0/24")])


async def test_an_allowed_network_opens_its_addresses_and_no_others() -> None:
    allowed = [ipaddress.ip_network("10.20.0.0/16")]
    await check_url("http://10.20.3.4:9000/hook", allowed)
    with pytest.raises(ClosedDestination):
        await check_url("http://10.21.3.4:9000/hook", allowed)


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/hook", "http:///hook", "http://8.8.8.8:99999/"])
async def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ClosedDestination):
        await check_url(url, [])
