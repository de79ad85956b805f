"""Webhooks reach public addresses, and private ones only in the networks the operator allows:
a participant's URL cannot make the service call the metadata address or an internal port."""

from __future__ import annotations

import ipaddress
import time

import httpx
import pytest

from services.notifications.channels import webhook
from services.notifications.channels.outgoing import DeliveryFailed, Outgoing
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
    async with httpx.AsyncClient(timeout=5) as http:
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
    port = httpx.URL(url).port
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    loopback = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    async with httpx.AsyncClient(timeout=5, event_hooks={"request": [record]}) as http:
        await webhook.send(http, named, OUTGOING, SECRET, int(time.time()), loopback)
    [request] = sent
    assert request.url.host in {"127.0.0.1", "::1"} and request.url.port == port
    assert request.extensions["sni_hostname"] == "localhost"
    assert hooks.raw == {"notice-1": 1}
    assert hooks.hosts == [f"localhost:{port}"]


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
