"""The webhook channel: a signed JSON POST that carries the notice's idempotency key.

Sent with aiohttp's client rather than httpx's, which the rest of Accord uses: a POST cost the
sender about 0.74 ms of CPU through httpx (anyio's streams, h11's parser) against 0.13 ms
through aiohttp, where a notice's whole delivery costs a few milliseconds
(bench/webhook_client.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiohttp
from opentelemetry import propagate
from yarl import URL

from services.notifications.channels.destinations import ClosedDestination, Network, check_url
from services.notifications.channels.outgoing import DeliveryFailed, Outgoing
from services.notifications.channels.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)


def request_of(outgoing: Outgoing, secret: str, now: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the POST; the signature covers the timestamp and the body."""
    body = json.dumps(outgoing.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "content-type": "application/json",
        IDEMPOTENCY_HEADER: outgoing.key,
        TIMESTAMP_HEADER: str(now),
        SIGNATURE_HEADER: signature(secret, now, body),
        "user-agent": "accord-notifications",
    }
    return body, headers


async def send(
    session: aiohttp.ClientSession,
    url: str,
    outgoing: Outgoing,
    secret: str,
    now: int,
    allowed: Sequence[Network] = (),
) -> None:
    """POST it, if the URL is one a webhook may reach (`allowed`: the private networks it may),
    to the address checked; anything but a 2xx answer in time is a DeliveryFailed with the
    reason. A redirect is not followed (its target was never checked): it is an answer."""
    try:
        [address, *_] = await check_url(url, allowed)
    except ClosedDestination as error:
        raise DeliveryFailed(f"no usable webhook URL for {outgoing.person_id}: {error}") from None
    body, headers = request_of(outgoing, secret, now)
    # The trace the delivery runs in goes along (with an exporter, aiohttp's instrumentation
    # then sends its client span's own, shared/telemetry.py).
    propagate.inject(headers)
    # Sent to the address just checked, so a name cannot resolve elsewhere in between (DNS
    # rebinding); the Host header and the TLS server name stay the URL's own.
    target = URL(url)
    headers["host"] = target.host_port_subcomponent or ""
    pinned = target.with_host(str(address))
    try:
        async with session.post(
            pinned, data=body, headers=headers, allow_redirects=False,
            server_hostname=target.host if target.scheme == "https" else None,
        ) as response:  # fmt: skip
            status = response.status
    except TimeoutError as error:
        raise DeliveryFailed(f"webhook timed out: {type(error).__name__}") from error
    except aiohttp.ClientError as error:
        raise DeliveryFailed(f"webhook unreachable: {type(error).__name__}: {error}") from error
    if not 200 <= status < 300:
        raise DeliveryFailed(f"webhook answered HTTP {status}")
