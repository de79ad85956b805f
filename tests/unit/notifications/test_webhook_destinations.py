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
]


@pytest.mark.parametrize("url", PRIVATE)
async def test_private_and_special_addresses_are_closed_by_default(url: str) -> None:
    with pytest.raises(ClosedDestination, match="private address"):
        await check_url(url, [])


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "http://[2606:4700::1111]:8443/hook"])
async def test_public_addresses_are_open(url: str) -> None:
    await check_url(url, [])


async def test_an_allowed_network_opens_its_addresses_and_no_others() -> None:
    allowed = [ipaddress.ip_network("10.20.0.0/16")]
    await check_url("http://10.20.3.4:9000/hook", allowed)
    with pytest.raises(ClosedDestination):
        await check_url("http://10.21.3.4:9000/hook", allowed)


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/hook", "http:///hook", "http://8.8.8.8:99999/"])
async def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ClosedDestination):
        await check_url(url, [])
