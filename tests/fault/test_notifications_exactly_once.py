"""The notifications service killed (SIGKILL) mid-delivery and started again: every notice
arrives exactly once, counted at the receiver by its idempotency key."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services.elicitation.application import Expectations
from shared.bus_kafka import KafkaBus
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.http_server import serving
from tests.integration.kafka_tools import read_topic
from tests.integration.notifications.contract_story import Elicitation, Notify, eventually, unique
from tests.integration.notifications.receiver import Receiver
from tests.integration.notifications.service_process import ServiceProcess

SECRET = "fault-webhook-secret"
JWT = "notifications-fault-secret-of-32-bytes"
DM = "client_decision_maker"


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap, jwt_secret=JWT)


@pytest.fixture
async def elicitation(settings: Settings) -> AsyncIterator[Elicitation]:
    bus = KafkaBus(settings.kafka_bootstrap)
    runtime = await build_runtime("elicitation", Expectations, settings, bus.publisher("elicit"))
    await runtime.start()
    yield Elicitation(runtime)
    await runtime.stop()


@pytest.fixture
def service(settings: Settings, tmp_path: Path) -> Iterator[ServiceProcess]:
    env = {
        "DATABASE_URL": settings.database_url,
        "ACCORD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ACCORD_JWT_SECRET": JWT,
        "ACCORD_NOTIFY_WEBHOOK_SECRET": SECRET,
        "ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',  # the receiver
        "ACCORD_NOTIFY_BACKOFF_BASE_SECONDS": "0.2",
        "ACCORD_NOTIFY_BACKOFF_MAX_SECONDS": "1",
        "ACCORD_NOTIFY_DELIVERY_CONCURRENCY": "4",
        "ACCORD_NOTIFY_DELIVERY_INTERVAL_SECONDS": "0.2",
        # Notices in flight at the kill are retried once their claim expires (timeout + 5 s).
        "ACCORD_NOTIFY_WEBHOOK_TIMEOUT_SECONDS": "2",
        "ACCORD_NOTIFY_SMTP_TIMEOUT_SECONDS": "2",
    }
    process = ServiceProcess(env, tmp_path / "notifications.log")
    yield process
    process.stop()


async def test_a_crash_mid_delivery_neither_loses_nor_repeats_a_notice(
    settings: Settings, elicitation: Elicitation, service: ServiceProcess
) -> None:
    # Each answer takes a while, so the kill lands while sends are in flight.
    hooks = Receiver(SECRET, delay=0.3)
    async with serving(hooks.app) as hook_url:
        url = await service.start()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            notify = Notify(http, settings)
            am = unique("am")
            deciders = [unique(f"dm{n}") for n in range(5)]
            contract = await elicitation.contract(am, "")
            for person in deciders:
                await elicitation.join(contract, am, person, DM)
            await notify.knows(contract, am, 6)
            for person in [am, *deciders]:
                await notify.prefer(
                    contract, person, channel="webhook", webhook_url=f"{hook_url}/hook/ok"
                )
        expected: Counter[str] = Counter()
        for n, person in enumerate(deciders * 2):
            await elicitation.run(
                "propose_expectation", contract, by=person, text=f"Expectation {n}",
                business_area="ops",
            )  # fmt: skip
            expected.update([person, am])
        for n in range(3):
            await elicitation.run(
                "disclose_risk", contract, by=am, kind="problem", title=f"Risk {n}",
                description="may happen", likelihood=2, impact=3, affected_expectations=[],
            )  # fmt: skip
            expected.update(deciders)
        total = sum(expected.values())

        await eventually(lambda: sum(hooks.raw.values()) >= 8)
        service.kill()
        killed_after = len(hooks.accepted)
        assert killed_after < total, "the crash should land mid-delivery"
        await asyncio.sleep(1)  # requests in flight at the kill finish at the receiver

        await service.start()

        def mine() -> list[dict]:
            return [p for p in hooks.accepted.values() if p["contract_id"] == contract]

        await eventually(lambda: len(mine()) == total, timeout=120)
        await asyncio.sleep(2)  # nothing more should come
    received = Counter(p["person_id"] for p in mine())
    assert received == expected
    assert all(count >= 1 for count in hooks.raw.values())
    repeats = hooks.repeats
    print(f"\n{total} notices; killed after {killed_after} had been accepted; "
          f"{repeats} raw repeat(s) arrived (sent before the kill, recorded after) and were "
          "dropped by the receiver by their idempotency key")  # fmt: skip

    # The record agrees: each notice delivered once, whatever the relay republished. The relay
    # of the restarted process may still be catching up, so wait for every notice's event.
    delivered: dict[str, set[str]] = {}

    async def all_published() -> bool:
        delivered.clear()
        topic = await read_topic(settings.kafka_bootstrap, "accord.notifications.v1", key=contract)
        for message in topic:
            envelope = message.envelope()
            if envelope.type.endswith(".NotificationDelivered.v1"):
                delivered.setdefault(envelope.data["notice_id"], set()).add(envelope.id)
        return len(delivered) == total

    await eventually(all_published, timeout=60)
    assert all(len(ids) == 1 for ids in delivered.values())
