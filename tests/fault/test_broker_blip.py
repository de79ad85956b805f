"""The relay through a broker restart: it recovers by itself, and nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

from accord.infra import kafka
from shared.bus_kafka import KafkaPublisher
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.integration.kafka_tools import read_topic
from tests.support.notes import Notes

TOPIC = "accord.testkit.v1"


@pytest.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[kafka.KafkaBroker]:
    """A broker of this test's own, so stopping it disturbs no other test."""
    broker = await asyncio.to_thread(kafka.start, tmp_path / "kafka")
    yield broker
    await asyncio.to_thread(broker.stop)


async def relayed_everything(runtime: ServiceRuntime[Notes]) -> bool:
    return await runtime.relay.positions.load() == runtime.app.recorder.max_notification_id()


async def test_the_relay_recovers_after_the_broker_restarts_and_loses_nothing(
    own_broker: kafka.KafkaBroker, database_url: str
) -> None:
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=own_broker.bootstrap,
        relay_publish_timeout_seconds=5,
    )
    runtime = await build_runtime(
        "testkit", Notes, settings, KafkaPublisher(own_broker.bootstrap, "blip")
    )
    await runtime.start()
    contract_id = uuid4()
    note_id = await runtime.execute(
        runtime.app.write, contract_id, "v0", actor_id="a", actor_role="r"
    )
    for n in range(1, 10):
        await runtime.execute(
            runtime.app.rewrite, note_id, f"v{n}", "", actor_id="a", actor_role="r"
        )
    async with asyncio.timeout(60):
        while not await relayed_everything(runtime):
            await asyncio.sleep(0.1)

    await asyncio.to_thread(own_broker.stop)
    for n in range(10, 20):  # the service keeps taking commands while the broker is away
        await runtime.execute(
            runtime.app.rewrite, note_id, f"v{n}", "", actor_id="a", actor_role="r"
        )
    async with asyncio.timeout(60):
        while not runtime.relay.last_error:
            await asyncio.sleep(0.1)
    await asyncio.to_thread(own_broker.restart)

    async with asyncio.timeout(120):
        while not await relayed_everything(runtime):
            await asyncio.sleep(0.2)
    await runtime.stop()
    texts = [
        m.envelope().data["text"]
        for m in await read_topic(own_broker.bootstrap, TOPIC, key=str(contract_id))
    ]
    assert list(dict.fromkeys(texts)) == [f"v{n}" for n in range(20)]
