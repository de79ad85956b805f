"""Webhooks reach public addresses, and private ones only in the networks the operator allows:
a participant's URL cannot make the service call the metadata address or an internal port."""

from __future__ import annotations

import ipaddress
import ssl
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from cryptography import x509
from yarl import URL

from accord.infra import kafka
from services.notifications.channels import webhook
from services.notifications.channels.outgoing import DeliveryFailed, Outgoing
from tests.integration.http_server import serving
from tests.integration.notifications.conftest import SECRET
from tests.integration.notifications.contract_story import Elicitation, Notify, unique
from tests.integration.notifications.receiver import Receiver

OUTGOING = Outgoing(
    key="notice-1", message_id="notice-1", contract_id="c-1", person_id="p-1",
    subject="New expectation", text="Tills work all day", payload={"person_id": "p-1"},
)  # fmt: skip


async def test_a_private_address_is_not_called_unless_its_network_is_allowed(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, url = receiver  # listening on 127.0.0.1
    async with aiohttp.ClientSession() as http:
        for closed in (f"{url}/hook/ok", url.replace("127.0.0.1", "localhost") + "/hook/ok"):
            with pytest.raises(DeliveryFailed, match="a private address"):
                await webhook.send(http, closed, OUTGOING, SECRET, int(time.time()))
        assert not hooks.raw  # nothing was sent
        loopback = [ipaddress.ip_network("127.0.0.0/8")]
        await webhook.send(http, f"{url}/hook/ok", OUTGOING, SECRET, int(time.time()), loopback)
    assert hooks.raw == {"notice-1": 1}


async def test_a_webhook_goes_to_the_address_checked_under_the_urls_own_name(
    receiver: tuple[Receiver, str],
) -> None:
    """No second lookup between the check and the connection (DNS rebinding): the request
    leaves for the checked address, with the URL's Host header and TLS server name."""
    hooks, url = receiver  # listening on 127.0.0.1
    named = url.replace("127.0.0.1", "localhost") + "/hook/ok"
    port = URL(url).port
    sent: list[URL] = []

    async def record(
        _: object, __: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        sent.append(params.url)

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(record)
    loopback = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    async with aiohttp.ClientSession(trace_configs=[tracing]) as http:
        await webhook.send(http, named, OUTGOING, SECRET, int(time.time()), loopback)
    [request] = sent
    assert request.host in {"127.0.0.1", "::1"} and request.port == port
    assert hooks.raw == {"notice-1": 1}
    assert hooks.hosts == [f"localhost:{port}"]


@pytest.mark.parametrize("named", ["localhost", "example.org"])
async def test_over_tls_the_pinned_address_is_verified_under_the_urls_name(
    tmp_path: Path, named: str
) -> None:
    """The certificate is checked against the URL's name, not the address it was sent to: a
    receiver whose certificate names the URL's host is reached, one naming another is not."""
    hooks = Receiver(SECRET)
    certificate, key = self_signed(tmp_path, named)
    trusting = ssl.create_default_context(cafile=certificate)
    loopback = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    async with (
        serving(hooks.app, tls=(certificate, key)) as url,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as http,
    ):
        at = url.replace("127.0.0.1", "localhost") + "/hook/ok"
        if named == "localhost":
            await webhook.send(http, at, OUTGOING, SECRET, int(time.time()), loopback)
            assert hooks.raw == {"notice-1": 1}
        else:
            with pytest.raises(DeliveryFailed, match=r"webhook unreachable: .*certificate"):
                await webhook.send(http, at, OUTGOING, SECRET, int(time.time()), loopback)
            assert not hooks.raw


def self_signed(folder: Path, name: str) -> tuple[str, str]:
    """A certificate for `name` alone (no address in it) and its key, as PEM files."""
    pem, private = kafka.self_signed([x509.DNSName(name)], name, days=1)
    (folder / "cert.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(private)
    return str(folder / "cert.pem"), str(folder / "key.pem")


async def test_a_webhook_url_into_a_private_network_is_refused_when_it_is_chosen(
    elicitation: Elicitation, notify: Notify
) -> None:
    am, person = unique("am"), unique("dm")
    contract = await elicitation.contract(am, f"{am}@contoso.example")
    await elicitation.join(contract, am, person, "client_decision_maker")
    await notify.knows(contract, am, 2)
    for url in (
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
        "http://10.0.0.7:8080/admin",
        "http://[::ffff:10.0.0.7]/hook",
        "http://224.0.0.1/hook",  # multicast
        "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "http://[2002:a9fe:a9fe::]/hook",  # 6to4 of the metadata address
        "ftp://example.com/hook",
    ):
        answer = await notify.post(
            person, f"/contracts/{contract}/preferences", {"channel": "webhook", "webhook_url": url}
        )
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["code"] == "INVALID_PREFERENCE", url
    # Loopback is allowed in these tests' settings; a public name is always allowed.
    await notify.prefer(contract, person, channel="webhook", webhook_url="http://127.0.0.1:9/hook")
