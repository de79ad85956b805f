"""The broker sees every Accord client under the deployment's prefix (ACCORD_KAFKA_CLIENT_ID)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient

from shared.bus import Partition
from shared.bus_kafka import KafkaBus

TOPIC = "accord.clientids.v1"


async def resume_from_start(_partitions: Sequence[Partition]) -> dict[Partition, int]:
    return {}


async def test_a_consumer_group_member_is_named_after_the_deployment_and_its_group(
    kafka_bootstrap: str,
) -> None:
    bus = KafkaBus(kafka_bootstrap, "acme-prod")
    group = f"accord-clientids-{uuid4().hex[:8]}"
    consumer = bus.consumer([TOPIC], group)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await consumer.start(resume_from_start)
    await admin.start()
    try:
        members: list[str] = []
        async with asyncio.timeout(60):
            while not members:
                await consumer.fetch(timeout=0.5, max_records=10)  # joins the group
                (described,) = await admin.describe_consumer_groups([group])
                members = [
                    member["client_id"]
                    for found in described.to_object()["groups"]
                    for member in found["members"]
                ]
        assert members == [f"acme-prod-{group}"]
    finally:
        await admin.close()
        await consumer.stop()
